import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { ImageStore } from '../src/image/image-store.js';
import { pullImage } from '../src/image/pull.js';
import { BlobStore, sha256Digest } from '../src/image/store.js';
import { spawnChild } from '../src/process.js';
import { type HyprState, containers, openState } from '../src/state/index.js';
import { type TestImage, buildBusyboxImage, pushTestImage } from './helpers/busybox-image.js';
import { type FaultProxy, startFaultProxy } from './helpers/fault-proxy.js';
import { type TestRegistry, startRegistry } from './helpers/registry.js';

let registry: TestRegistry;
let proxy: FaultProxy;
let image: TestImage;
let dir: string;
let state: HyprState;
let store: ImageStore;
let n = 0;

beforeAll(async () => {
  registry = await startRegistry();
  proxy = await startFaultProxy(registry.url);
  image = await buildBusyboxImage({ extraLayers: [[{ path: 'data/big', type: 'file', data: randomBytes(3 << 20) }]] });
  await pushTestImage(registry, 'faulty:latest', image);
});
afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), `hypr-store-${n++}-`));
  state = openState(join(dir, 'hypr.db'));
  store = await ImageStore.open(join(dir, 'images'), state);
  proxy.fault = 'none';
  proxy.chunkDelayMs = 0;
  proxy.log.length = 0;
  proxy.onBlobStart = undefined;
  return async () => {
    state.close();
    await rm(dir, { recursive: true, force: true });
  };
});

/** Every stored blob hashes to its name, and no temp file is left. */
async function expectStoreClean(opts: { tmp?: boolean } = {}): Promise<string[]> {
  const blobs = await store.blobs.listBlobs();
  for (const d of blobs) expect(sha256Digest(await store.blobs.readBlob(d))).toBe(d);
  if (opts.tmp !== false) expect(await readdir(store.blobs.tmpDir)).toEqual([]);
  return blobs;
}

const ref = () => `${proxy.host}/faulty:latest`;

describe('blob store', () => {
  test('a blob written with the wrong expected digest is refused and leaves nothing', async () => {
    const bs = await new BlobStore(join(dir, 'raw')).init();
    await expect(bs.writeBlob('hello', { digest: sha256Digest('other') })).rejects.toMatchObject({
      code: 'IMAGE_BLOB_DIGEST_MISMATCH',
    });
    expect(await bs.listBlobs()).toEqual([]);
    expect(await readdir(bs.tmpDir)).toEqual([]);
    const ok = await bs.writeBlob('hello');
    expect(ok.digest).toBe(sha256Digest('hello'));
  });
});

describe('pull under faults', () => {
  test('a registry serving a corrupted blob fails the pull and the store stays clean', async () => {
    proxy.fault = 'corrupt';
    await expect(pullImage(store, ref(), { retryBaseMs: 5 })).rejects.toMatchObject({
      code: 'IMAGE_BLOB_DIGEST_MISMATCH',
    });
    expect(await expectStoreClean()).toEqual([]);
    expect(store.listImages()).toEqual([]);
  });

  test('a manifest whose digest header lies fails the pull', async () => {
    proxy.fault = 'wrong-manifest-digest';
    await expect(pullImage(store, ref())).rejects.toMatchObject({ code: 'IMAGE_BLOB_DIGEST_MISMATCH' });
    expect(store.listImages()).toEqual([]);
  });

  test('a connection cut mid-blob is resumed with a range request', async () => {
    proxy.fault = 'cut-once';
    const rec = await pullImage(store, ref(), { retryBaseMs: 5 });
    expect(rec.digest).toBe(image.manifestDigest);
    expect(proxy.log.some((l) => /bytes=\d+-$/.test(l))).toBe(true);
    await expectStoreClean();
  });

  test('a connection cut on every attempt fails cleanly after the retries', async () => {
    proxy.fault = 'cut-always';
    await expect(pullImage(store, ref(), { retries: 2, retryBaseMs: 5 })).rejects.toMatchObject({
      code: 'REGISTRY_BLOB_INTERRUPTED',
    });
    const blobs = await expectStoreClean();
    expect(blobs).not.toContain(image.layers[1]);
    expect(store.listImages()).toEqual([]);
  });

  test('kill -9 of a pull leaves a consistent store and the next pull completes', async () => {
    proxy.chunkDelayMs = 30;
    const started = new Promise<void>((r) => {
      proxy.onBlobStart = (p) => {
        if (p.includes(image.layers[1])) setTimeout(r, 150);
      };
    });
    const tsx = resolve('node_modules/.bin/tsx');
    const child = spawnChild(tsx, [resolve('packages/core/test/helpers/pull-child.ts'), dir, ref()], {
      env: { PATH: process.env.PATH },
    });
    await Promise.race([started, child.exited]);
    child.kill();
    const exit = await child.exited;
    expect(exit, child.stderrTail()).toEqual({ code: null, signal: 'SIGKILL' });
    proxy.chunkDelayMs = 0;
    // Whatever was committed verifies; the partial layer is only a temp file.
    const blobs = await expectStoreClean({ tmp: false });
    expect(blobs).not.toContain(image.layers[1]);
    expect(store.listImages()).toEqual([]);
    const rec = await pullImage(store, ref());
    expect(rec.digest).toBe(image.manifestDigest);
    const gc = await store.collectGarbage({ tempMaxAgeMs: 0 });
    expect(gc.removed).toEqual([]);
    await expectStoreClean();
  });
});

describe('images, rmi and garbage collection', () => {
  test('rmi untags, refuses an image in use, and gc frees unreferenced blobs', async () => {
    const rec = await pullImage(store, `${registry.host}/faulty:latest`);
    store.tagImage(rec.digest, { registry: 'docker.io', repository: 'library/mine', tag: '2' });
    expect(store.listImages()[0].tags).toEqual(['docker.io/library/mine:2', `${registry.host}/faulty:latest`].sort());
    expect(store.removeImage('mine:2')).toEqual({ untagged: ['docker.io/library/mine:2'] });
    state.db
      .insert(containers)
      .values({ id: 'c1', name: 'web', imageDigest: rec.digest, imageRef: 'faulty', createdAt: Date.now() })
      .run();
    expect(() => store.removeImage(`${registry.host}/faulty:latest`)).toThrow(
      expect.objectContaining({ code: 'IMAGE_IN_USE' }),
    );
    state.db.delete(containers).run();
    expect(store.removeImage(`${registry.host}/faulty:latest`).deleted).toBe(rec.digest);
    const gc = await store.collectGarbage();
    expect(gc.removed.sort()).toEqual([...image.blobs.keys(), image.manifestDigest].sort());
    expect(await store.blobs.listBlobs()).toEqual([]);
  });
});
