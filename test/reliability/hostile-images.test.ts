/**
 * Issue 23, hostile images through @hypr/core: a corpus the test makes itself (traversal, absolute
 * paths, symlink and hard-link escapes, whiteouts of `.` and `..`, a tampered layer, decompression
 * bombs), each stored in a real image store and unpacked with unpackImage as hyprd does. After each,
 * a canary directory beside the unpack root must be exactly as it was, and the error (when there is
 * one) must be a HyprError naming the layer and the entry.
 */
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HyprError } from '../../packages/core/src/errors.js';
import type { ImageRecord } from '../../packages/core/src/image/image-store.js';
import { TAR_END, type TarMemoryEntry, tarHeader, tarPadding } from '../../packages/core/src/image/tar-writer.js';
import { unpackImage } from '../../packages/core/src/image/unpack-image.js';
import type { UnpackLimits } from '../../packages/core/src/image/unpack-limits.js';
import { type TestStore, loadTestImage, openTestStore } from '../../packages/core/test/helpers/build-store.js';
import { type TestImage, buildImage } from '../../packages/core/test/helpers/busybox-image.js';

let ts: TestStore;
let parent: string;
let canary: string;
let canarySnapshot: string;

/** Everything under the canary directory: names, modes, link counts, contents. */
async function snapshot(dir: string): Promise<string> {
  const out: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const p = join(dir, name);
    const st = await lstat(p);
    const body = st.isFile() ? await readFile(p, 'utf8') : st.isDirectory() ? await snapshot(p) : '';
    out.push(`${name} ${st.mode.toString(8)} ${st.nlink} ${st.size} ${body}`);
  }
  return out.join('\n');
}

beforeAll(async () => {
  ts = await openTestStore();
  parent = await mkdtemp(join(tmpdir(), 'hypr-hostile-img-'));
  canary = join(parent, 'canary');
  await mkdir(join(canary, 'sub'), { recursive: true });
  await writeFile(join(canary, 'secret'), 'untouched', { mode: 0o600 });
  await writeFile(join(canary, 'sub', 'file'), 'untouched too');
  canarySnapshot = await snapshot(canary);
});
afterAll(async () => {
  await ts?.close();
  await rm(parent, { recursive: true, force: true });
});

const file = (path: string, data = 'pwned'): TarMemoryEntry => ({ path, type: 'file', data, mode: 0o644 });
const dir = (path: string): TarMemoryEntry => ({ path, type: 'directory', mode: 0o755 });
const sym = (path: string, linkpath: string): TarMemoryEntry => ({ path, type: 'symlink', linkpath });
const hard = (path: string, linkpath: string): TarMemoryEntry => ({ path, type: 'link', linkpath });

/** A tar of one file of `sizeBytes` zeros, made in pieces (a bomb compresses about 1000:1). */
function zerosTar(sizeBytes: number): Buffer {
  return Buffer.concat([
    tarHeader({ path: 'zeros', type: 'file', sizeBytes }),
    Buffer.alloc(sizeBytes),
    tarPadding(sizeBytes),
    TAR_END,
  ]);
}

let n = 0;
/** Stores the image and unpacks it into a fresh root beside the canary; returns the root and the error. */
async function unpackHostile(
  image: TestImage,
  limits?: Partial<UnpackLimits>,
): Promise<{ root: string; record: ImageRecord; error?: unknown }> {
  const name = `hostile/case${++n}:1`;
  await loadTestImage(ts.store, image, name);
  const record = ts.store.getImage(image.manifestDigest)!;
  const root = join(parent, `root${n}`);
  let error: unknown;
  try {
    await unpackImage(ts.store, record, root, { allowDevices: false, preserveOwnership: false, limits });
  } catch (e) {
    error = e;
  }
  expect(await snapshot(canary)).toBe(canarySnapshot);
  const siblings = (await readdir(parent)).filter((s) => !s.startsWith('root'));
  expect(siblings).toEqual(['canary']);
  return { root, record, error };
}

interface RefusedCase {
  name: string;
  layers: TarMemoryEntry[][];
  code: string;
  /** Which layer the error must name (default: the last). */
  layer?: number;
  entry: string;
}

const refused: RefusedCase[] = [
  {
    name: 'a path climbing out with ..',
    layers: [[file('../canary/pwned')]],
    code: 'IMAGE_LAYER_UNSAFE',
    entry: '../canary/pwned',
  },
  {
    name: 'a .. in the middle of a path',
    layers: [[file('a/b/../../../canary/secret')]],
    code: 'IMAGE_LAYER_UNSAFE',
    entry: 'a/b/../../../canary/secret',
  },
  {
    name: 'a hard link climbing out',
    layers: [[hard('h', '../canary/secret')]],
    code: 'IMAGE_LAYER_UNSAFE',
    entry: 'h',
  },
  {
    name: 'a whiteout of ..',
    layers: [[dir('etc'), file('etc/keep', 'k')], [file('etc/.wh...', '')]],
    code: 'IMAGE_LAYER_UNSAFE',
    entry: 'etc/.wh...',
  },
  {
    name: 'a whiteout of . at the root',
    layers: [[file('keep')], [file('.wh..', '')]],
    code: 'IMAGE_LAYER_UNSAFE',
    entry: '.wh..',
  },
  { name: 'a whiteout of .. at the root', layers: [[file('.wh...', '')]], code: 'IMAGE_LAYER_UNSAFE', entry: '.wh...' },
  {
    name: 'a whiteout with no name',
    layers: [[dir('d'), file('d/.wh.', '')]],
    code: 'IMAGE_LAYER_UNSAFE',
    entry: 'd/.wh.',
  },
  {
    name: 'a symlink loop',
    layers: [[sym('a', 'b'), sym('b', 'a'), file('a/x')]],
    code: 'IMAGE_LAYER_UNSAFE',
    entry: 'a/x',
  },
  {
    name: 'a hard link to a host path (missing inside the root)',
    layers: [[hard('h', '/etc/passwd')]],
    code: 'IMAGE_LAYER_INVALID',
    entry: 'h',
  },
  {
    name: 'a hard link through a symlink to the canary',
    layers: [[sym('d', '../canary'), hard('h', 'd/secret')]],
    code: 'IMAGE_LAYER_INVALID',
    entry: 'h',
  },
];

describe('hostile images unpacked through @hypr/core leave the canary untouched', () => {
  test.each(refused)('$name is refused, naming the layer and the entry', async (c) => {
    const image = await buildImage(c.layers);
    const { error } = await unpackHostile(image);
    expect(error).toBeInstanceOf(HyprError);
    const layer = image.layers[c.layer ?? image.layers.length - 1];
    expect(error).toMatchObject({ code: c.code, message: expect.stringContaining(layer) });
    expect((error as Error).message).toContain(`"${c.entry}"`);
  });

  test.each([
    ['an absolute path', [[file('PARENT/canary/secret')]], 'PARENT/canary/secret'],
    ['a write through a relative symlink to ..', [[sym('esc', '../canary'), file('esc/secret')]], 'canary/secret'],
    [
      'a write through an absolute symlink',
      [[sym('abs', 'PARENT/canary'), file('abs/secret')]],
      'PARENT/canary/secret',
    ],
    [
      'a symlink planted by one layer and written through by the next',
      [[sym('usr', 'PARENT/canary')], [file('usr/secret'), dir('usr/sub')]],
      'PARENT/canary/secret',
    ],
    [
      'a symlink chain climbing past the root',
      [[sym('a', '../../../../..'), sym('b', 'a/canary'), file('b/secret')]],
      'canary/secret',
    ],
    ['a whiteout through a symlink', [[sym('d', 'PARENT/canary')], [file('d/.wh.secret', '')]], undefined],
    ['an opaque whiteout through a symlink', [[sym('d', 'PARENT/canary')], [file('d/.wh..wh..opq', '')]], undefined],
    [
      'a directory entry over a symlink to the canary',
      [[sym('d', 'PARENT/canary'), { ...dir('d'), mode: 0o777 }]],
      undefined,
    ],
  ] as const)('%s stays inside the root', async (_name, layers, landed) => {
    const fix = (s: string) => s.replace('PARENT', parent);
    const resolved = layers.map((l) =>
      l.map((e) => ({ ...e, path: fix(e.path), ...('linkpath' in e ? { linkpath: fix(e.linkpath ?? '') } : {}) })),
    );
    const { root, error } = await unpackHostile(await buildImage(resolved as TarMemoryEntry[][]));
    expect(error).toBeUndefined();
    if (landed) expect(await readFile(join(root, fix(landed)), 'utf8')).toBe('pwned');
  });

  test('device nodes are skipped, not created, when not allowed', async () => {
    const { root, error } = await unpackHostile(
      await buildImage([[{ path: 'dev/sda', type: 'block', devmajor: 8, devminor: 0 }, file('ok')]]),
    );
    expect(error).toBeUndefined();
    await expect(lstat(join(root, 'dev/sda'))).rejects.toThrow();
  });

  test('a tampered layer (not what the config says) is refused', async () => {
    const image = await buildImage([[file('a', 'real')]]);
    image.config.rootfs.diff_ids[0] = `sha256:${'0'.repeat(64)}`;
    const { error } = await unpackHostile(image);
    expect(error).toMatchObject({ code: 'IMAGE_BLOB_DIGEST_MISMATCH' });
  });

  test('a layer that is not a tar archive is refused, naming the layer', async () => {
    const image = await buildImage([gzipSync(Buffer.from('this is not a tar archive, just text '.repeat(40)))]);
    const { error } = await unpackHostile(image);
    expect(error).toMatchObject({ code: 'IMAGE_LAYER_INVALID', message: expect.stringContaining(image.layers[0]) });
  });

  test('a gzip bomb is stopped by the expansion ratio', async () => {
    const image = await buildImage([zerosTar(96 << 20)]);
    expect(image.blobs.get(image.layers[0])!.length).toBeLessThan(1 << 20);
    const { root, error } = await unpackHostile(image);
    expect(error).toMatchObject({
      code: 'IMAGE_LAYER_TOO_LARGE',
      message: expect.stringMatching(new RegExp(`layer ${image.layers[0]} expands more than 250 times`)),
    });
    expect((await lstat(join(root, 'zeros'))).size).toBeLessThan(96 << 20);
  });

  test('the image total is capped, counting every layer', async () => {
    const image = await buildImage([zerosTar(3 << 20), zerosTar(3 << 20)]);
    const { error } = await unpackHostile(image, { maxImageBytes: 5 << 20 });
    expect(error).toMatchObject({ code: 'IMAGE_TOO_LARGE', message: expect.stringContaining(image.layers[1]) });
  });

  test('the store keeps working after the corpus', async () => {
    const { root, error } = await unpackHostile(await buildImage([[dir('etc'), file('etc/hostname', 'fine')]]));
    expect(error).toBeUndefined();
    expect(await readFile(join(root, 'etc/hostname'), 'utf8')).toBe('fine');
  });
});
