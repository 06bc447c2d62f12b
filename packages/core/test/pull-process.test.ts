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
  openState,
  pullImageInProcess,
  pullProcessAvailable,
} from '../dist/index.js';
import { type TestImage, buildBusyboxImage, pushTestImage } from './helpers/busybox-image.js';
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
