import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, test, vi } from 'vitest';
// The pull process is the compiled entry beside the compiled client: these tests use dist/, as hyprd does.
import {
  type HyprState,
  ImageStore,
  type ImageStore as ImageStoreType,
  type PullProgress,
  getImageRootfs,
  layerDiskKey,
  openState,
  pullImageInProcess,
  pullProcessAvailable,
} from '../dist/index.js';
import { type TestImage, buildBusyboxImage, buildImage, pushTestImage } from './helpers/busybox-image.js';
import { startFaultProxy } from './helpers/fault-proxy.js';
import { type TestRegistry, startRegistry } from './helpers/registry.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

let registry: TestRegistry;
let image: TestImage;
let ref: string;
let dir: string;
let state: HyprState;
let store: ImageStoreType;

beforeAll(async () => {
  registry = await startRegistry();
  image = await buildBusyboxImage({
    extraLayers: [0, 1].map((i) => [{ path: `data/${i}`, type: 'file', data: randomBytes(4 << 20) }]),
  });
  ref = await pushTestImage(registry, 'proc:1', image);
});
afterAll(async () => {
  await registry?.stop();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hypr-pull-process-'));
  state = openState(join(dir, 'hypr.db'));
  store = await ImageStore.open(join(dir, 'images'), state);
});
afterEach(async () => {
  state.close();
  await rm(dir, { recursive: true, force: true });
});

const partials = async () => (await readdir(join(dir, 'images', 'tmp'))).filter((f) => f.endsWith('.part'));

test('the built entry is there: hyprd downloads in a process of its own', () => {
  expect(pullProcessAvailable()).toBe(true);
});

test('a pull in its own process stores the whole image, reports progress, and the caller records it', async () => {
  const events: PullProgress[] = [];
  const record = await pullImageInProcess(store, ref, { onProgress: (p) => events.push(p) });
  expect(record.digest).toBe(image.manifestDigest);
  expect(store.findImage(ref)?.digest).toBe(image.manifestDigest);
  for (const layer of image.layers) {
    expect(events).toContainEqual(expect.objectContaining({ digest: layer, kind: 'layer', status: 'done' }));
    expect(await store.blobs.hasBlob(layer)).toBe(true);
  }
  expect((await store.blobs.readBlob(image.configDigest)).length).toBeGreaterThan(0); // verified by digest
  expect(await partials()).toEqual([]);
});

test('a failure in the pull process reaches the caller with its code and message', async () => {
  const missing = `${registry.host}/nothing-here:1`;
  await expect(pullImageInProcess(store, missing)).rejects.toMatchObject({
    code: 'IMAGE_NOT_FOUND',
    message: expect.stringContaining('nothing-here'),
  });
  expect(store.listImages()).toEqual([]);
});

test('cancelling a pull stops its process and leaves no partial blob', async () => {
  const abort = new AbortController();
  const pull = pullImageInProcess(store, ref, {
    signal: abort.signal,
    onProgress: (p) => {
      if (p.status === 'downloading') abort.abort(new Error('cancelled by the test'));
    },
  });
  await expect(pull).rejects.toThrow('cancelled by the test');
  expect(await partials()).toEqual([]);
  expect(store.listImages()).toEqual([]);
});

const rootfsDir = () => join(dir, 'images', 'rootfs');
/** Scratch trees and half-made disks a build leaves while it runs (`.build-*`, `.<key>.*.tmp`). */
const scratch = async () => (await readdir(rootfsDir()).catch(() => [] as string[])).filter((f) => f.startsWith('.'));

test('with layer disks asked for, the pull process makes each layer’s disk as it arrives', async () => {
  const record = await pullImageInProcess(store, ref, { layerDisks: { cacheDir: rootfsDir() } });
  const disks = (await readdir(rootfsDir())).filter((f) => f.endsWith('.ext4')).sort();
  expect(disks).toEqual(image.diffIds.map((d) => `${layerDiskKey(d)}.ext4`).sort());
  expect(await scratch()).toEqual([]);
  // hyprd's getImageRootfs finds them made: nothing is unpacked on its side
  const rootfs = await getImageRootfs(store, record, { layers: true });
  expect(rootfs.layered).toBe(true);
  expect(rootfs.disks.map((d) => d.cached)).toEqual(image.layers.map(() => true));
});

test('a layer that cannot be unpacked: the image is stored, no disk or scratch is left, the run says why', async () => {
  const evil = await buildImage([[{ path: 'h', type: 'link', linkpath: '../../../../etc/passwd' }]]);
  const evilRef = await pushTestImage(registry, 'proc-evil:1', evil);
  const record = await pullImageInProcess(store, evilRef, { layerDisks: { cacheDir: rootfsDir() } });
  expect(await store.blobs.hasBlob(evil.layers[0])).toBe(true);
  expect(await readdir(rootfsDir()).catch(() => [])).toEqual([]);
  await expect(getImageRootfs(store, record, { layers: true })).rejects.toMatchObject({
    code: 'IMAGE_LAYER_UNSAFE',
    message: expect.stringContaining(evil.layers[0]),
  });
});

test('cancelling a pull that makes disks leaves no partial blob, disk or scratch tree', async () => {
  const abort = new AbortController();
  let bytes = 0;
  const pull = pullImageInProcess(store, ref, {
    signal: abort.signal,
    layerDisks: { cacheDir: rootfsDir() },
    onProgress: (p) => {
      bytes += p.status === 'downloading' ? p.doneBytes : 0;
      if (bytes > 2 << 20) abort.abort(new Error('cancelled by the test'));
    },
  });
  await expect(pull).rejects.toThrow('cancelled by the test');
  expect(await partials()).toEqual([]);
  expect(await scratch()).toEqual([]);
  expect(store.listImages()).toEqual([]);
});

test('a connection cut mid-layer resumes, and the layer’s disk is made from the resumed bytes', async () => {
  const proxy = await startFaultProxy(registry.url);
  try {
    proxy.fault = 'cut-once';
    const record = await pullImageInProcess(store, `${proxy.host}/proc:1`, { layerDisks: { cacheDir: rootfsDir() } });
    expect(proxy.log.some((l) => /bytes=\d+-$/.test(l))).toBe(true);
    expect(await scratch()).toEqual([]);
    const rootfs = await getImageRootfs(store, record, { layers: true });
    expect(rootfs.disks.map((d) => d.cached)).toEqual(image.layers.map(() => true));
  } finally {
    await proxy.stop();
  }
});
