import { lstat, mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TAR_END, type TarWriteEntry, tarHeader, tarPadding } from '@hypr/core';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { layerTar, readLayerTar } from './writable-layer.js';

/** A tar as Kestrel's tar-upper writes one: entries in order, file bodies padded. */
function tarOf(entries: (TarWriteEntry & { data?: string })[]): Buffer {
  const parts: Buffer[] = [];
  for (const { data, ...e } of entries) {
    const body = Buffer.from(data ?? '');
    parts.push(tarHeader(e.type === 'file' ? { ...e, sizeBytes: body.length } : e));
    if (e.type === 'file') parts.push(body, tarPadding(body.length));
  }
  return Buffer.concat([...parts, TAR_END]);
}

async function* chunksOf(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'hypr-layer-test-'));
});
afterEach(() => rm(work, { recursive: true, force: true }));

describe('readLayerTar', () => {
  test('whiteouts become deletions, .wh..wh..opq an opaque directory, files land under root', async () => {
    const root = join(work, 'upper');
    const tar = tarOf([
      { path: 'etc/', type: 'directory', mode: 0o755, mtime: 1000 },
      { path: 'etc/.wh.motd', type: 'file', mode: 0o644, mtime: 1000 },
      { path: 'etc/added', type: 'file', mode: 0o640, uid: 5, gid: 6, mtime: 2000, data: 'hello\n' },
      { path: 'etc/again', type: 'link', linkpath: 'etc/added', mtime: 2000 },
      { path: 'etc/to-added', type: 'symlink', linkpath: 'added', mtime: 3000 },
      { path: 'opt/', type: 'directory', mode: 0o700, mtime: 4000 },
      { path: 'opt/.wh..wh..opq', type: 'file', mode: 0o644, mtime: 4000 },
      { path: 'opt/new', type: 'file', mode: 0o644, mtime: 4000, data: 'x' },
      { path: '.wh.gone', type: 'file', mode: 0o644, mtime: 5000 },
    ]);
    const entries = await readLayerTar(chunksOf(tar), root);
    expect(entries.map((e) => [e.path, e.type, e.whiteout, e.opaque])).toEqual([
      ['etc', 'directory', false, false],
      ['etc/added', 'file', false, false],
      ['etc/again', 'file', false, false],
      ['etc/motd', 'char', true, false],
      ['etc/to-added', 'symlink', false, false],
      ['gone', 'char', true, false],
      ['opt', 'directory', false, true],
      ['opt/new', 'file', false, false],
    ]);
    expect(entries.find((e) => e.path === 'etc/added')).toMatchObject({ mode: 0o640, uid: 5, gid: 6, sizeBytes: 6 });
    expect(entries.find((e) => e.path === 'etc/again')?.sizeBytes).toBe(6);
    expect(await readFile(join(root, 'etc/again'), 'utf8')).toBe('hello\n');
    expect(await readlink(join(root, 'etc/to-added'))).toBe('added');
    expect((await lstat(join(root, 'etc'))).mtimeMs).toBe(1000_000);
    expect((await lstat(join(root, 'etc/to-added'))).mtimeMs).toBe(3000_000);
  });

  test('the layer read from a tar is written back as the same OCI tar', async () => {
    const root = join(work, 'upper');
    const tar = tarOf([
      { path: 'd/', type: 'directory', mode: 0o755, mtime: 7 },
      { path: 'd/.wh..wh..opq', type: 'file', mode: 0o644, mtime: 7 },
      { path: 'd/f', type: 'file', mode: 0o600, mtime: 8, data: 'abc' },
      { path: '.wh.x', type: 'file', mode: 0o644, mtime: 0 },
    ]);
    const entries = await readLayerTar(chunksOf(tar), root);
    const out: Buffer[] = [];
    for await (const c of layerTar({ entries, root, cleanup: async () => {} })) out.push(c);
    const names = [];
    const text = Buffer.concat(out);
    for (let at = 0; at + 512 <= text.length && text[at]; ) {
      names.push(
        text
          .subarray(at, at + 100)
          .toString()
          .replace(/\0.*$/s, ''),
      );
      const size = Number.parseInt(
        text
          .subarray(at + 124, at + 136)
          .toString()
          .replace(/\0.*$/s, '')
          .trim() || '0',
        8,
      );
      at += 512 + Math.ceil(size / 512) * 512;
    }
    expect(names).toEqual(['d/', 'd/.wh..wh..opq', 'd/f', '.wh.x']);
  });

  test('a tar from the guest cannot write outside root', async () => {
    const root = join(work, 'upper');
    await expect(
      readLayerTar(chunksOf(tarOf([{ path: '../escape', type: 'file', mtime: 0, data: 'x' }])), root),
    ).rejects.toMatchObject({ code: 'CONTAINER_LAYER_UNREADABLE' });
    // a file under a symlink: its directory is no directory of the tar
    await expect(
      readLayerTar(
        chunksOf(
          tarOf([
            { path: 'l', type: 'symlink', linkpath: work, mtime: 0 },
            { path: 'l/planted', type: 'file', mtime: 0, data: 'x' },
          ]),
        ),
        join(work, 'upper2'),
      ),
    ).rejects.toMatchObject({ code: 'CONTAINER_LAYER_UNREADABLE' });
    await expect(lstat(join(work, 'planted'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
