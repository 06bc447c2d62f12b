import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildBusyboxImage } from '../../test/helpers/busybox-image.js';
import { ImageStore } from '../image/image-store.js';
import { runCommand } from '../process.js';
import { type HyprState, openState } from '../state/index.js';
import { getRootfsDisk, pruneRootfsCache } from './cache.js';

let dir: string;
let state: HyprState;
let store: ImageStore;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hypr-ext4-'));
  state = openState(join(dir, 'hypr.db'));
  store = await ImageStore.open(join(dir, 'images'), state);
});
afterAll(async () => {
  state?.close();
  await rm(dir, { recursive: true, force: true });
});

async function addImage(extra: Parameters<typeof buildBusyboxImage>[0] = {}) {
  const image = await buildBusyboxImage(extra);
  for (const [digest, data] of image.blobs) await store.blobs.writeBlob(data, { digest });
  return store.addImage({
    digest: image.manifestDigest,
    mediaType: image.manifestMediaType,
    configDigest: image.configDigest,
    config: image.config,
    layers: image.layers.map((digest) => ({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest,
      size: image.blobs.get(digest)!.length,
    })),
  });
}

test('an image becomes a valid ext4 disk, made once and reused', async () => {
  const rec = await addImage({
    extraLayers: [[{ path: 'etc/hello', type: 'file', data: 'hi\n', mode: 0o640, uid: 12, gid: 34 }]],
  });
  const first = await getRootfsDisk(store, rec);
  expect(first.cached).toBe(false);
  await runCommand('e2fsck', ['-fn', first.path]);
  const { stdout } = await runCommand('debugfs', ['-R', 'stat /etc/hello', first.path]);
  expect(stdout).toMatch(/User:\s+12\s+Group:\s+34/);
  expect(stdout).toMatch(/Mode:\s+0640/);
  const cat = await runCommand('debugfs', ['-R', 'cat /etc/hello', first.path]);
  expect(cat.stdout).toBe('hi\n');
  const ls = await runCommand('debugfs', ['-R', 'stat /bin/sh', first.path]);
  expect(ls.stdout).toMatch(/Type: symlink/);
  const second = await getRootfsDisk(store, rec);
  expect(second).toMatchObject({ cached: true, path: first.path });
});

test('an erofs disk can be made too, and unused disks are pruned', async () => {
  const rec = await addImage({ config: { Cmd: ['erofs'] } });
  const disk = await getRootfsDisk(store, rec, { format: 'erofs' });
  expect(disk.path.endsWith('.erofs')).toBe(true);
  const { stdout } = await runCommand('dump.erofs', ['--path=/bin/busybox', disk.path]).catch(() => ({
    stdout: 'skip',
  }));
  expect(stdout.length).toBeGreaterThan(0);
  store.removeImage(rec.digest, { force: true });
  expect(await pruneRootfsCache(store)).toContain(`${disk.key}.erofs`);
});
