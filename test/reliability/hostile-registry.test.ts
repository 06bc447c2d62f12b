/**
 * Issue 23, hostile images through a real hyprd: pushed to a real registry on 127.0.0.1, pulled and
 * run with the real CLI. Each is refused with an error naming the layer (or the manifest), never as
 * a connection problem; an escape attempt that is allowed stays inside the container's root; a
 * canary directory on the host is untouched; and the daemon and its store keep working.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import type { TarMemoryEntry } from '../../packages/core/src/image/tar-writer.js';
import {
  type TestImage,
  buildImage,
  pushBusyboxImage,
  pushTestImage,
} from '../../packages/core/test/helpers/busybox-image.js';
import { type Daemon, type E2eEnv, hypr, hyprOk, startDaemon, startE2eEnv } from '../e2e/helpers.js';

// VMs boot under TCG on a shared machine: allow for a slow, loaded host.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

let env: E2eEnv;
let d: Daemon;
let canary: string;
let canarySnapshot: string;

async function snapshot(dir: string): Promise<string> {
  const out: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const st = await lstat(join(dir, name));
    out.push(
      `${name} ${st.mode.toString(8)} ${st.nlink} ${st.isFile() ? await readFile(join(dir, name), 'utf8') : ''}`,
    );
  }
  return out.join('\n');
}

beforeAll(async () => {
  env = await startE2eEnv();
  canary = join(env.dir, 'canary');
  await mkdir(canary);
  await writeFile(join(canary, 'secret'), 'untouched', { mode: 0o600 });
  canarySnapshot = await snapshot(canary);
  d = await startDaemon({ dir: env.dir });
});
afterAll(async () => {
  await d?.shutdown();
  await env?.cleanup();
});

const file = (path: string, data = 'pwned'): TarMemoryEntry => ({ path, type: 'file', data, mode: 0o644 });
const dir = (path: string): TarMemoryEntry => ({ path, type: 'directory', mode: 0o755 });
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const ZERO = `sha256:${'0'.repeat(64)}`;

/** `hypr run --rm REF` of a hostile image: it must fail with `message` and not as a daemon problem. */
async function runRefused(ref: string, message: RegExp): Promise<string> {
  const r = await hypr(d, ['run', '--rm', ref, '/bin/true']);
  expect(r.code, r.stdout + r.stderr).not.toBe(0);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/cannot connect|is hyprd running|TypeError|RangeError/i);
  expect(await snapshot(canary)).toBe(canarySnapshot);
  return r.stderr;
}

/** The image with one layer's declared size changed in its manifest (the blob stays as it is). */
function withLayerSize(image: TestImage, layer: number, sizeBytes: number): TestImage {
  const manifest = JSON.parse(image.manifest.toString());
  manifest.layers[layer].size = sizeBytes;
  const bytes = Buffer.from(JSON.stringify(manifest));
  return { ...image, manifest: bytes, manifestDigest: sha256(bytes) };
}

describe('hostile images through hyprd', () => {
  test.each([
    ['..', [[dir('etc'), file('etc/keep')], [file('etc/.wh...', '')]], 'etc/.wh...'],
    ['.', [[dir('etc'), file('etc/keep')], [file('etc/.wh..', '')]], 'etc/.wh..'],
  ])('a layer whiting out "%s" is refused, naming the layer and the entry', async (_name, layers, entry) => {
    const image = await buildImage(layers, { config: { Cmd: ['/bin/true'] } });
    const ref = await pushTestImage(env.registry, `evil/whiteout${_name.length}:1`, image);
    const stderr = await runRefused(ref, /refusing to unpack it/);
    expect(stderr).toContain(image.layers[1]);
    expect(stderr).toContain(`"${entry}"`);
  });

  test('a hard link climbing out of the layer is refused', async () => {
    const image = await buildImage([[{ path: 'h', type: 'link', linkpath: '../../../../canary/secret' }]]);
    const ref = await pushTestImage(env.registry, 'evil/hardlink:1', image);
    const stderr = await runRefused(ref, /is a hard link to .*climbs out/);
    expect(stderr).toContain(image.layers[0]);
  });

  test('a layer whose manifest declares more bytes than its blob has says the manifest is wrong', async () => {
    const good = await buildImage([[file('a', 'x'.repeat(1000))]]);
    const blob = good.blobs.get(good.layers[0])!;
    const ref = await pushTestImage(env.registry, 'evil/size:1', withLayerSize(good, 0, blob.length + 100));
    const r = await hypr(d, ['pull', ref]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`the manifest declares blob ${good.layers[0]} as ${blob.length + 100} bytes`);
    expect(r.stderr).not.toMatch(/HTTP 416/);
  });

  test('a layer that is not what the image config says is refused', async () => {
    const image = await buildImage([[file('a', 'real')]], { config: { Cmd: ['/bin/true'] } });
    // The same layer under a config whose diff id is wrong: config and manifest rebuilt around it.
    const config = Buffer.from(JSON.stringify({ ...image.config, rootfs: { type: 'layers', diff_ids: [ZERO] } }));
    const manifest = JSON.parse(image.manifest.toString());
    manifest.config = { ...manifest.config, digest: sha256(config), size: config.length };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const blobs = new Map([...image.blobs].filter(([k]) => k !== image.configDigest));
    blobs.set(sha256(config), config);
    const ref = await pushTestImage(env.registry, 'evil/tampered:1', {
      ...image,
      blobs,
      manifest: manifestBytes,
      manifestDigest: sha256(manifestBytes),
    });
    await runRefused(ref, /the image config says sha256:0{64}/);
  });

  // Last, and one VM for two checks: the daemon and its store still pull, unpack and boot after the
  // hostile images, and this image's writes through symlinks to host paths stay in the container.
  test('after them, an image writing through symlinks to host paths runs, its files inside', async () => {
    const name = `hypr-escape-${process.pid}`;
    const { ref } = await pushBusyboxImage(env.registry, 'evil/symlink:1', {
      extraLayers: [
        [{ path: 'abs', type: 'symlink', linkpath: '/' }, file(`abs/${name}-abs`)],
        [{ path: 'rel', type: 'symlink', linkpath: '../../../../../../../..' }, file(`rel/${name}-rel`)],
        [{ path: 'can', type: 'symlink', linkpath: canary }, file('can/secret')],
      ],
    });
    const out = await hyprOk(d, ['run', '--rm', ref, 'cat', `/${name}-abs`, `/${name}-rel`]);
    expect(out).toBe('pwnedpwned');
    await expect(lstat(`/${name}-abs`)).rejects.toThrow();
    await expect(lstat(`/${name}-rel`)).rejects.toThrow();
    expect(await snapshot(canary)).toBe(canarySnapshot);
  });
});
