import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ImageStore } from '../src/image/image-store.js';
import { pullImage } from '../src/image/pull.js';
import { type PushProgress, pushImage } from '../src/image/push.js';
import { unpackImage } from '../src/image/unpack-image.js';
import { runCommand } from '../src/process.js';
import { type HyprState, openState } from '../src/state/index.js';
import { buildBusyboxImage, pushBusyboxImage, writeTestOciLayout } from './helpers/busybox-image.js';
import { type TestRegistry, startRegistry } from './helpers/registry.js';

let registry: TestRegistry;
let dir: string;
let state: HyprState;
let store: ImageStore;
beforeAll(async () => {
  registry = await startRegistry();
  dir = await mkdtemp(join(tmpdir(), 'hypr-push-'));
  state = openState(join(dir, 'hypr.db'));
  store = await ImageStore.open(join(dir, 'images'), state);
});
afterAll(async () => {
  state?.close();
  await registry?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('a pushed image is valid for skopeo, keeps its digest, and mounts blobs across repositories', async () => {
  const { ref, image } = await pushBusyboxImage(registry, 'src:1');
  await pullImage(store, ref);
  const events: PushProgress[] = [];
  // Chunked upload (PATCH) for anything over 64 KiB, monolithic below.
  const pushed = await pushImage(store, ref, `${registry.host}/team/copy:2`, {
    chunkSizeBytes: 64 << 10,
    onProgress: (e) => events.push(e),
  });
  expect(pushed.digest).toBe(image.manifestDigest);
  expect(events.filter((e) => e.status === 'mounted').length).toBe(image.layers.length + 1);
  const { stdout } = await runCommand('skopeo', [
    'inspect',
    '--tls-verify=false',
    `docker://${registry.host}/team/copy:2`,
  ]);
  expect(JSON.parse(stdout).Digest).toBe(image.manifestDigest);
});

test('an image built locally is uploaded (chunked), and skopeo copies it out intact', async () => {
  const image = await buildBusyboxImage({
    extraLayers: [[{ path: 'big', type: 'file', data: Buffer.alloc(200_000, 1) }]],
    compression: 'none',
  });
  for (const [digest, data] of image.blobs) await store.blobs.writeBlob(data, { digest });
  await store.blobs.writeBlob(image.manifest, { digest: image.manifestDigest });
  store.addImage(
    {
      digest: image.manifestDigest,
      mediaType: image.manifestMediaType,
      configDigest: image.configDigest,
      config: image.config,
      layers: image.layers.map((digest) => ({
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        digest,
        size: image.blobs.get(digest)!.length,
      })),
    },
    [{ registry: 'docker.io', repository: 'library/local', tag: 'v1' }],
  );
  const events: PushProgress[] = [];
  const res = await pushImage(store, 'local:v1', `${registry.host}/local:v1`, {
    chunkSizeBytes: 100_000,
    onProgress: (e) => events.push(e),
  });
  expect(res.digest).toBe(image.manifestDigest);
  expect(events.some((e) => e.status === 'done')).toBe(true);
  const out = join(dir, 'skopeo-out');
  await runCommand('skopeo', [
    'copy',
    '--preserve-digests',
    '--src-tls-verify=false',
    `docker://${registry.host}/local:v1`,
    `oci:${out}:v1`,
  ]);
  const index = JSON.parse((await runCommand('cat', [join(out, 'index.json')])).stdout);
  expect(index.manifests[0].digest).toBe(image.manifestDigest);
});

test('what skopeo pushes, we pull', async () => {
  const image = await buildBusyboxImage({ config: { Cmd: ['from-skopeo'] } });
  const layout = join(dir, 'layout');
  await writeTestOciLayout(layout, image, 'v1');
  await runCommand('skopeo', [
    'copy',
    '--dest-tls-verify=false',
    `oci:${layout}:v1`,
    `docker://${registry.host}/by-skopeo:v1`,
  ]);
  const rec = await pullImage(store, `${registry.host}/by-skopeo:v1`);
  expect(rec.config.config?.Cmd).toEqual(['from-skopeo']);
  // skopeo may substitute a blob of the same content the registry already holds in another
  // compression, so compare what the layers unpack to.
  expect(rec.config.rootfs.diff_ids).toEqual(image.diffIds);
  const stats = await unpackImage(store, rec, join(dir, 'from-skopeo'));
  expect(stats.map((s) => s.diffId)).toEqual(image.diffIds);
});
