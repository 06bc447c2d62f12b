import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { STATE_MIGRATIONS } from './migrations/index.js';
import { openState } from './open.js';
import { images, networks, volumes } from './schema.js';

test('the state database opens in WAL mode with every migration applied, twice over', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hypr-state-'));
  try {
    const a = openState(join(dir, 'sub', 'hypr.db'));
    expect(a.version).toBe(STATE_MIGRATIONS.at(-1)!.version);
    expect(a.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    a.db.insert(volumes).values({ name: 'data', mountpoint: '/v/data', createdAt: 1 }).run();
    a.db.insert(networks).values({ id: 'n1', name: 'default', createdAt: 1 }).run();
    a.close();
    const b = openState(join(dir, 'sub', 'hypr.db'));
    expect(b.db.select().from(volumes).all()).toMatchObject([{ name: 'data', driver: 'local', labels: '{}' }]);
    expect(b.db.select().from(images).all()).toEqual([]);
    b.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a database from a newer HYPR is refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hypr-state-'));
  try {
    const a = openState(join(dir, 'hypr.db'));
    a.sqlite.pragma('user_version = 999');
    a.close();
    expect(() => openState(join(dir, 'hypr.db'))).toThrow(expect.objectContaining({ code: 'STATE_TOO_NEW' }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
