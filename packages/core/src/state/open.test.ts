import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { readStateMigrations } from './migrate.js';
import { openState } from './open.js';
import { images, networks, volumes } from './schema.js';

test('the state database opens in WAL mode with every migration applied, twice over', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hypr-state-'));
  try {
    const a = openState(join(dir, 'sub', 'hypr.db'));
    expect(a.version).toBe(3 + readStateMigrations().length);
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
