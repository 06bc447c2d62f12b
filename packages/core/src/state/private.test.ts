import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { TEST_IMAGE_ROW } from '../../test/helpers/state-rows.js';
import { ImageStore } from '../image/index.js';
import { openState } from './open.js';
import { containers, images } from './schema.js';

// The state database holds every container's environment (passwords included): it, its -wal and
// -shm, and images/ are private to their owner whatever the umask (#23). Needs root (useradd).
const isRoot = process.getuid?.() === 0;
// Outside CI a non-root run skips these; under CI (always root) they run, and fail loudly if not root.
const skipAsNonRoot = !isRoot && !process.env.CI;
const probe = `hyprprobe${process.pid}`;
let root: string;

beforeAll(() => {
  if (!isRoot) return;
  const r = spawnSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', probe], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`useradd ${probe}: ${r.stderr}`);
  root = mkdtempSync(join(tmpdir(), 'hypr-private-'));
  // The daemon makes its data root 0711 (traversable, not listable).
  chmodSync(root, 0o711);
});
afterAll(() => {
  if (!isRoot) return;
  spawnSync('userdel', [probe]);
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Every path under `dir`, walked as root. */
function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? [p, ...walk(p)] : [p];
  });
}

function readsAs(user: string, path: string): boolean {
  const argv = statSync(path).isDirectory() ? ['ls', path] : ['cat', path];
  return spawnSync('runuser', ['-u', user, '--', ...argv], { stdio: 'ignore' }).status === 0;
}

test.skipIf(skipAsNonRoot)('another local user can read nothing under the data root (needs root)', async () => {
  const old = process.umask(0);
  try {
    const state = openState(join(root, 'hypr.db'));
    state.db.insert(images).values(TEST_IMAGE_ROW).run();
    state.db
      .insert(containers)
      .values({
        id: 'c1',
        name: 'db',
        imageDigest: 'sha256:t',
        imageRef: 't',
        config: '{"env":["DB_PASSWORD=hunter2"]}',
        createdAt: 0,
      })
      .run();
    const store = await ImageStore.open(join(root, 'images'), state);
    await store.blobs.writeBlob(Buffer.from('secret layer'));
    // Open: the -wal and -shm exist now.
    for (const f of ['hypr.db', 'hypr.db-wal', 'hypr.db-shm']) {
      expect(existsSync(join(root, f)), f).toBe(true);
      expect(statSync(join(root, f)).mode & 0o777, f).toBe(0o600);
    }
    expect(statSync(join(root, 'images')).mode & 0o777).toBe(0o700);
    const readable = walk(root).filter((p) => readsAs(probe, p));
    expect(readable).toEqual([]);
    expect(readsAs('root', join(root, 'hypr.db'))).toBe(true);
    state.close();
  } finally {
    process.umask(old);
  }
});

test.skipIf(skipAsNonRoot)('a database and WAL left 0644 by an older HYPR become 0600 when opened', () => {
  const dir = mkdtempSync(join(root, 'old-'));
  const path = join(dir, 'hypr.db');
  const a = openState(path);
  a.db.insert(images).values(TEST_IMAGE_ROW).run();
  for (const f of [path, `${path}-wal`, `${path}-shm`]) chmodSync(f, 0o644);
  const b = openState(path);
  for (const f of [path, `${path}-wal`, `${path}-shm`]) expect(statSync(f).mode & 0o777, f).toBe(0o600);
  a.close();
  b.close();
});
