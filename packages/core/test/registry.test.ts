import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ImageStore } from '../src/image/image-store.js';
import { pullImage } from '../src/image/pull.js';
import { sha256Digest } from '../src/image/store.js';
import { createCredentialResolver, saveRegistryCredentials } from '../src/registry/auth.js';
import { type HyprState, openState } from '../src/state/index.js';
import {
  type TestImage,
  buildBusyboxImage,
  buildImage,
  pushBusyboxImage,
  pushTestImage,
  pushTestIndex,
} from './helpers/busybox-image.js';
import { type TestRegistry, startRegistry } from './helpers/registry.js';

let registry: TestRegistry;
let dir: string;
let state: HyprState;
let store: ImageStore;

beforeAll(async () => {
  registry = await startRegistry();
  dir = await mkdtemp(join(tmpdir(), 'hypr-pull-'));
  state = openState(join(dir, 'hypr.db'));
  store = await ImageStore.open(join(dir, 'images'), state);
});
afterAll(async () => {
  state?.close();
  await registry?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('pull from a real registry', () => {
  test('an image pushed to the registry is pulled back with the same digests', async () => {
    const { ref, image } = await pushBusyboxImage(registry, 'busybox:latest');
    const events: string[] = [];
    const rec = await pullImage(store, ref, { onProgress: (p) => events.push(`${p.kind}:${p.status}`) });
    expect(rec.digest).toBe(image.manifestDigest);
    expect(rec.configDigest).toBe(image.configDigest);
    expect(rec.layers.map((l) => l.digest)).toEqual(image.layers);
    expect(rec.tags).toEqual([`${registry.host}/busybox:latest`]);
    for (const d of [...image.layers, image.configDigest, image.manifestDigest]) {
      expect(sha256Digest(await store.blobs.readBlob(d))).toBe(d);
    }
    expect(events).toContain('layer:done');
    expect(store.resolveImage(ref).digest).toBe(image.manifestDigest);
    expect(store.resolveImage(image.configDigest.slice(7, 19)).digest).toBe(image.manifestDigest);
  });

  test('pulling again downloads nothing', async () => {
    const ref = `${registry.host}/busybox:latest`;
    const events: string[] = [];
    await pullImage(store, ref, { onProgress: (p) => events.push(p.status) });
    expect(events.filter((e) => e === 'downloading')).toEqual([]);
  });

  test('zstd, uncompressed and docker v2 images pull', async () => {
    for (const [name, opts] of [
      ['zst:1', { compression: 'zstd' as const }],
      ['raw:1', { compression: 'none' as const }],
      ['dock:1', { docker: true }],
    ] as const) {
      const { ref, image } = await pushBusyboxImage(registry, name, opts);
      const rec = await pullImage(store, ref);
      expect(rec.digest).toBe(image.manifestDigest);
    }
  });

  test('a pull by digest pins the manifest', async () => {
    const { image } = await pushBusyboxImage(registry, 'pinned:1', { config: { Cmd: ['echo', 'pinned'] } });
    const rec = await pullImage(store, `${registry.host}/pinned@${image.manifestDigest}`);
    expect(rec.config.config?.Cmd).toEqual(['echo', 'pinned']);
  });

  test('the host platform is picked from a multi-platform index, or the one asked for', async () => {
    const amd = await buildBusyboxImage({ architecture: 'amd64', config: { Cmd: ['amd64'] } });
    const arm = await buildBusyboxImage({ architecture: 'arm64', variant: 'v8', config: { Cmd: ['arm64'] } });
    const { ref, indexDigest } = await pushTestIndex(registry, 'multi:latest', [
      { image: amd, platform: { os: 'linux', architecture: 'amd64' } },
      { image: arm, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    ]);
    const host = await pullImage(store, ref);
    expect(host.config.config?.Cmd).toEqual([process.arch === 'arm64' ? 'arm64' : 'amd64']);
    expect(host.indexDigest).toBe(indexDigest);
    const armRec = await pullImage(store, ref, { platform: { os: 'linux', architecture: 'arm64' } });
    expect(armRec.digest).toBe(arm.manifestDigest);
    await expect(pullImage(store, ref, { platform: { os: 'linux', architecture: 's390x' } })).rejects.toMatchObject({
      code: 'IMAGE_PLATFORM_NOT_FOUND',
    });
  });

  test('a manifest declaring a layer larger than its blob is a manifest error, not HTTP 416', async () => {
    const image = await buildImage([[{ path: 'x', type: 'file', data: 'small layer' }]]);
    const manifest = JSON.parse(image.manifest.toString());
    const real = manifest.layers[0].size as number;
    manifest.layers[0].size = real + 1000;
    const lying: TestImage = { ...image, manifest: Buffer.from(JSON.stringify(manifest)) };
    const ref = await pushTestImage(registry, 'liar:1', lying);
    await expect(pullImage(store, ref, { retryBaseMs: 1 })).rejects.toMatchObject({
      code: 'IMAGE_MANIFEST_INVALID',
      message: expect.stringContaining(`as ${real + 1000} bytes, but ${registry.host} serves ${real} bytes`),
    });
  });

  test('a missing image fails with IMAGE_NOT_FOUND', async () => {
    await expect(pullImage(store, `${registry.host}/nope:latest`)).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
  });

  test('an unreachable registry fails cleanly', async () => {
    await expect(pullImage(store, '127.0.0.1:1/x:y', { retries: 1, retryBaseMs: 10 })).rejects.toMatchObject({
      code: 'REGISTRY_UNREACHABLE',
    });
  });

  test('nothing is left in the temp dir after pulls', async () => {
    expect(await readdir(join(dir, 'images', 'tmp'))).toEqual([]);
  });
});

describe('a registry behind htpasswd auth', () => {
  let authed: TestRegistry;
  beforeAll(async () => {
    authed = await startRegistry({ auth: { username: 'alice', password: 's3cret' } });
  });
  afterAll(async () => authed?.stop());

  test('pulls with credentials from a docker config and fails without', async () => {
    const image = await buildBusyboxImage({ config: { Cmd: ['private'] } });
    const ref = await pushTestImage(authed, 'private:1', image);
    await expect(
      pullImage(store, ref, { credentials: createCredentialResolver({ dockerConfigFile: false }) }),
    ).rejects.toMatchObject({
      code: 'REGISTRY_UNAUTHORIZED',
    });
    const authFile = join(dir, 'auth.json');
    await saveRegistryCredentials(authFile, authed.host, { username: 'alice', password: 's3cret' });
    const rec = await pullImage(store, ref, {
      credentials: createCredentialResolver({ hyprAuthFile: authFile, dockerConfigFile: false }),
    });
    expect(rec.digest).toBe(image.manifestDigest);
  });
});
