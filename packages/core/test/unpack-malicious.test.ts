import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { TAR_END, type TarMemoryEntry, createTar, tarHeader, tarPadding } from '../src/image/tar-writer.js';
import { resolveUnpackLimits } from '../src/image/unpack-limits.js';
import { LayerUnpacker } from '../src/image/unpack.js';
import { makeLayerDisk } from '../src/rootfs/layer-disks.js';

// Each case is a crafted layer trying to reach `outside/`, a sibling of the unpack root. Whatever
// the layer does, `outside/` must look exactly as before.
let parent: string;
let root: string;
let outside: string;

async function* chunks(b: Buffer): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += 700) yield b.subarray(i, i + 700);
}

async function unpack(...layers: TarMemoryEntry[][]): Promise<void> {
  const u = new LayerUnpacker(root, { allowDevices: false });
  for (const l of layers) await u.unpackLayer(chunks(createTar(l)));
}

async function outsideSnapshot(): Promise<string> {
  const out: string[] = [];
  for (const n of (await readdir(outside)).sort()) {
    const p = join(outside, n);
    const st = await lstat(p);
    out.push(`${n} ${st.mode.toString(8)} ${st.nlink} ${st.isFile() ? await readFile(p, 'utf8') : ''}`);
  }
  const st = await stat(outside);
  return `${st.mode.toString(8)}\n${out.join('\n')}`;
}

let before: string;
beforeEach(async () => {
  parent = await mkdtemp(join(tmpdir(), 'hypr-evil-'));
  root = join(parent, 'root');
  outside = join(parent, 'outside');
  await mkdir(root);
  await mkdir(outside, { mode: 0o755 });
  await writeFile(join(outside, 'secret'), 'untouched', { mode: 0o600 });
  before = await outsideSnapshot();
});
afterEach(async () => {
  expect(await outsideSnapshot()).toBe(before);
  await rm(parent, { recursive: true, force: true });
});

const file = (path: string, data = 'pwned'): TarMemoryEntry => ({ path, type: 'file', data, mode: 0o644 });
const sym = (path: string, linkpath: string): TarMemoryEntry => ({ path, type: 'symlink', linkpath });
const hard = (path: string, linkpath: string): TarMemoryEntry => ({ path, type: 'link', linkpath });

describe('hostile layers stay inside the root', () => {
  test('an absolute path lands under the root', async () => {
    await unpack([file(`${outside}/pwned`)]);
    expect(await readFile(join(root, outside, 'pwned'), 'utf8')).toBe('pwned');
  });

  test('a path climbing out with .. is refused', async () => {
    await expect(unpack([file('../outside/pwned')])).rejects.toMatchObject({ code: 'IMAGE_LAYER_UNSAFE' });
  });

  test('a .. hidden in the middle of a path is refused', async () => {
    await expect(unpack([file('a/b/../../../outside/secret')])).rejects.toMatchObject({ code: 'IMAGE_LAYER_UNSAFE' });
  });

  test('a write through a relative symlink to .. stays inside', async () => {
    await unpack([sym('escape', '../outside'), file('escape/secret')]);
    expect(await readFile(join(root, 'outside', 'secret'), 'utf8')).toBe('pwned');
  });

  test('a write through an absolute symlink to a host dir stays inside', async () => {
    await unpack([sym('abs', outside), file('abs/secret')]);
    expect(await readFile(join(root, outside, 'secret'), 'utf8')).toBe('pwned');
  });

  test('a symlink planted by an earlier layer cannot be written through by a later one', async () => {
    await unpack([sym('usr', `${outside}/../outside`)], [file('usr/secret'), { path: 'usr/dir', type: 'directory' }]);
    expect(await readFile(join(root, outside, 'secret'), 'utf8')).toBe('pwned');
  });

  test('a hard link climbing out with .. is refused', async () => {
    await expect(unpack([hard('h', '../outside/secret')])).rejects.toMatchObject({ code: 'IMAGE_LAYER_UNSAFE' });
  });

  test('a hard link to an absolute host path resolves inside the root (and is missing there)', async () => {
    await expect(unpack([hard('h', `${outside}/secret`)])).rejects.toMatchObject({ code: 'IMAGE_LAYER_INVALID' });
  });

  test('a hard link through a symlinked dir does not reach the host file', async () => {
    await expect(unpack([sym('d', outside), hard('h', 'd/secret')])).rejects.toMatchObject({
      code: 'IMAGE_LAYER_INVALID',
    });
  });

  test('a hard link to a symlink links the symlink itself, and a later file replaces it', async () => {
    await unpack([sym('s', `${outside}/secret`), hard('h', 's'), file('h', 'replaced')]);
    expect(await readlink(join(root, 's'))).toBe(`${outside}/secret`);
    expect(await readFile(join(root, 'h'), 'utf8')).toBe('replaced');
  });

  test('a file entry over a symlink to a host file replaces the link', async () => {
    await unpack([sym('x', `${outside}/secret`)], [file('x', 'mine')]);
    expect((await lstat(join(root, 'x'))).isFile()).toBe(true);
  });

  test('a directory entry over a symlink to a host dir does not chmod the host dir', async () => {
    await unpack([sym('d', outside), { path: 'd', type: 'directory', mode: 0o777 }]);
    expect((await lstat(join(root, 'd'))).isDirectory()).toBe(true);
  });

  test('a whiteout through a symlink removes nothing on the host', async () => {
    await unpack([sym('d', outside)], [file('d/.wh.secret', '')]);
  });

  test('an opaque whiteout through a symlink clears nothing on the host', async () => {
    await unpack([sym('d', outside)], [file('d/.wh..wh..opq', '')]);
  });

  test('a symlink loop fails instead of spinning', async () => {
    await expect(unpack([sym('a', 'b'), sym('b', 'a'), file('a/x')])).rejects.toMatchObject({
      code: 'IMAGE_LAYER_UNSAFE',
    });
  });

  test('device nodes are skipped where not allowed', async () => {
    const u = new LayerUnpacker(root, { allowDevices: false });
    const stats = await u.unpackLayer(
      chunks(createTar([{ path: 'dev/sda', type: 'block', devmajor: 8, devminor: 0 }])),
    );
    expect(stats.skipped).toEqual([{ path: 'dev/sda', reason: 'device nodes are not allowed here' }]);
    await expect(lstat(join(root, 'dev/sda'))).rejects.toThrow();
  });

  test('whiteouts of "." and ".." (and an empty name) are refused, at the root and below', async () => {
    for (const name of ['.wh..', '.wh...', '.wh.', 'sub/.wh..', 'sub/.wh...']) {
      await expect(
        unpack([file('keep', 'kept'), { path: 'sub', type: 'directory' }], [file(name, '')]),
      ).rejects.toMatchObject({
        code: 'IMAGE_LAYER_UNSAFE',
        message: expect.stringContaining(name),
      });
      expect(await readFile(join(root, 'keep'), 'utf8')).toBe('kept');
      expect((await stat(join(root, 'sub'))).isDirectory()).toBe(true);
    }
  });

  test('a layer that expands far beyond its size (a gzip bomb) is stopped with a clear error', async () => {
    // 1 GiB of zeros in one file: about 1 MB of gzip. It must stop well before 1 GiB reaches the disk.
    const size = 1024 ** 3;
    async function* tar(): AsyncGenerator<Buffer> {
      yield tarHeader({ path: 'zeros', type: 'file', sizeBytes: size });
      const zeros = Buffer.alloc(1 << 20);
      for (let n = 0; n < size; n += zeros.length) yield zeros;
      yield tarPadding(size);
      yield TAR_END;
    }
    const gz = Readable.from(tar()).pipe(createGzip({ level: 9 }));
    const u = new LayerUnpacker(root, { layerName: 'sha256:bomb' });
    await expect(u.unpackLayer(gz)).rejects.toMatchObject({
      code: 'IMAGE_LAYER_TOO_LARGE',
      message: expect.stringMatching(/layer sha256:bomb expands more than 250 times/),
    });
    expect((await stat(join(root, 'zeros'))).size).toBeLessThan(size / 8);
  });

  test('the uncompressed total of an image is capped, and the limits can be set', async () => {
    const layer = createTar([file('a', 'x'.repeat(4000))]);
    const u = new LayerUnpacker(root, { limits: { maxImageBytes: 8000 }, imageBytesBefore: 4000, layerName: 'L2' });
    await expect(u.unpackLayer(chunks(layer))).rejects.toMatchObject({
      code: 'IMAGE_TOO_LARGE',
      message: expect.stringContaining('layer L2'),
    });
    expect(resolveUnpackLimits({}, { HYPR_UNPACK_MAX_RATIO: '2000', HYPR_UNPACK_MAX_BYTES: '100g' })).toEqual({
      maxExpansionRatio: 2000,
      maxImageBytes: 100 * 1024 ** 3,
    });
    expect(() => resolveUnpackLimits({}, { HYPR_UNPACK_MAX_RATIO: 'lots' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('HYPR_UNPACK_MAX_RATIO') }),
    );
  });

  test('a symlink chain that resolves via .. at the root stays clamped', async () => {
    await unpack([sym('a', '../../../../..'), sym('b', 'a/outside'), file('b/secret')]);
    expect(await readFile(join(root, 'outside', 'secret'), 'utf8')).toBe('pwned');
  });
});

// A layer disk is written from the tar without touching the host's tree at all; what the unpack
// refuses it refuses too, and a refused layer leaves no file in the cache directory.
describe('hostile layers made into a layer disk', () => {
  const makeDisk = async (entries: TarMemoryEntry[]) => {
    const tar = createTar(entries);
    const dir = join(parent, 'cache');
    const spec = {
      storeRoot: parent,
      dir,
      key: 'k',
      digest: 'sha256:evil',
      diffId: `sha256:${createHash('sha256').update(tar).digest('hex')}`,
    };
    try {
      return await makeLayerDisk(spec, { source: chunks(tar) });
    } finally {
      expect((await readdir(dir)).filter((n) => n !== 'k.ext4')).toEqual([]);
    }
  };

  test('.., whiteouts of . and .., hard links out of the layer or to a directory are refused', async () => {
    const cases: [TarMemoryEntry[], string][] = [
      [[file('../outside/secret')], 'climbs out with ".."'],
      [[file('sub/.wh..', '')], 'is a whiteout of "."'],
      [[file('.wh...', '')], 'is a whiteout of ".."'],
      [[hard('x', '../outside/secret')], 'is a hard link to "../outside/secret"'],
      [[{ path: 'd', type: 'directory' }, hard('x', 'd')], 'is a hard link to a directory'],
      [[file('a'), hard('x', '/')], 'is a hard link to the root'],
    ];
    for (const [entries, why] of cases)
      await expect(makeDisk(entries)).rejects.toMatchObject({
        code: 'IMAGE_LAYER_UNSAFE',
        message: expect.stringContaining(why),
      });
  });

  test('a symlinked parent is followed inside the disk; a symlink loop or a file as a parent falls back', async () => {
    const disk = await makeDisk([sym('a', '/outside'), file('a/secret'), sym('up', '../../..'), file('up/x', 'in')]);
    const ls = (p: string) => execFileSync('debugfs', ['-R', `ls -p ${p}`, disk.path], { encoding: 'utf8' });
    expect(ls('/outside')).toContain('/secret/');
    expect(ls('/')).toContain('/x/');
    await rm(disk.path);
    for (const entries of [
      [sym('l1', 'l2'), sym('l2', 'l1'), file('l1/x')],
      [file('f'), file('f/x')],
    ])
      await expect(makeDisk(entries)).rejects.toMatchObject({ code: 'ROOTFS_LAYER_DISK_FAILED' });
  });
});
