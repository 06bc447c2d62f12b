import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadImages, saveImages } from '../src/image/archive.js';
import { ImageStore } from '../src/image/image-store.js';
import { pullImage } from '../src/image/pull.js';
import { unpackImage } from '../src/image/unpack-image.js';
import { runCommand } from '../src/process.js';
import { type HyprState, openState } from '../src/state/index.js';
import { pushBusyboxImage } from './helpers/busybox-image.js';
import { type TestRegistry, startRegistry } from './helpers/registry.js';

let registry: TestRegistry;
let dir: string;
const opened: HyprState[] = [];
async function freshStore(name: string): Promise<ImageStore> {
  const state = openState(join(dir, name, 'hypr.db'));
  opened.push(state);
  return ImageStore.open(join(dir, name, 'images'), state);
}
beforeAll(async () => {
  registry = await startRegistry();
  dir = await mkdtemp(join(tmpdir(), 'hypr-archive-'));
});
afterAll(async () => {
  for (const s of opened) s.close();
  await registry?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('save then load moves an image between stores offline, digests intact', async () => {
  const { ref, image } = await pushBusyboxImage(registry, 'moved:1', {
    extraLayers: [[{ path: 'hello', type: 'file', data: 'hi' }]],
  });
  const a = await freshStore('a');
  await pullImage(a, ref);
  const file = join(dir, 'moved.tar');
  await saveImages(a, [ref], file);
  const { stdout } = await runCommand('skopeo', ['inspect', `oci-archive:${file}`]);
  expect(JSON.parse(stdout).Digest).toBe(image.manifestDigest);
  const b = await freshStore('b');
  const [loaded] = await loadImages(b, file);
  expect(loaded.digest).toBe(image.manifestDigest);
  expect(loaded.tags).toEqual([ref]);
  await unpackImage(b, loaded, join(dir, 'tree'));
});

test('a docker-save archive written by skopeo loads with its tag', async () => {
  const { ref, image } = await pushBusyboxImage(registry, 'legacy:2', { config: { Cmd: ['legacy'] } });
  const file = join(dir, 'legacy.tar');
  await runCommand('skopeo', ['copy', '--src-tls-verify=false', `docker://${ref}`, `docker-archive:${file}:legacy:2`]);
  const c = await freshStore('c');
  const [loaded] = await loadImages(c, file);
  expect(loaded.configDigest).toBe(image.configDigest);
  expect(loaded.tags).toEqual(['docker.io/library/legacy:2']);
  expect(loaded.config.config?.Cmd).toEqual(['legacy']);
  const stats = await unpackImage(c, loaded, join(dir, 'legacy-tree'));
  expect(stats.map((s) => s.diffId)).toEqual(image.diffIds);
});

test('an OCI layout tar written by skopeo loads', async () => {
  const { ref, image } = await pushBusyboxImage(registry, 'ocitar:3');
  const file = join(dir, 'oci.tar');
  await runCommand('skopeo', ['copy', '--src-tls-verify=false', `docker://${ref}`, `oci-archive:${file}:ocitar:3`]);
  const d = await freshStore('d');
  const [loaded] = await loadImages(d, file);
  expect(loaded.configDigest).toBe(image.configDigest);
});
