import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { type TarHeader, readTar } from './tar-reader.js';
import { type TarMemoryEntry, createTar } from './tar-writer.js';

async function* chunks(buf: Buffer, size = 700): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function readAll(buf: Buffer, size?: number): Promise<{ header: TarHeader; data: string }[]> {
  const out: { header: TarHeader; data: string }[] = [];
  for await (const { header, body } of readTar(chunks(buf, size))) {
    const parts: Buffer[] = [];
    for await (const c of body) parts.push(c);
    out.push({ header, data: Buffer.concat(parts).toString() });
  }
  return out;
}

const longDir = `${'d'.repeat(120)}/${'e'.repeat(120)}`;
const entries: TarMemoryEntry[] = [
  { path: 'etc', type: 'directory', mode: 0o755, mtime: 1_700_000_000 },
  { path: 'etc/passwd', type: 'file', data: 'root:x:0:0::/root:/bin/sh\n', uid: 0, gid: 0, mode: 0o644 },
  { path: `${longDir}/${'f'.repeat(130)}`, type: 'file', data: 'deep', uid: 3_000_000, gid: 70_000_000 },
  { path: 'bin/sh', type: 'symlink', linkpath: `/${'l'.repeat(150)}/busybox` },
  { path: 'bin/hard', type: 'link', linkpath: 'etc/passwd' },
  { path: 'dev/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 },
  { path: 'run/fifo', type: 'fifo' },
  { path: 'héllo/wörld', type: 'file', data: 'ü', uname: 'ünïcode' },
  { path: 'big', type: 'file', data: 'x'.repeat(5000) },
];

test('what createTar writes, readTar reads back field by field, whatever the chunking', async () => {
  const tar = createTar(entries);
  for (const size of [1, 511, 512, 700, 1 << 20]) {
    const got = await readAll(tar, size);
    expect(got.map((g) => g.header.path)).toEqual(entries.map((e) => (e.type === 'directory' ? `${e.path}/` : e.path)));
    expect(got[2]).toMatchObject({ header: { uid: 3_000_000, gid: 70_000_000, type: 'file' }, data: 'deep' });
    expect(got[3].header).toMatchObject({ type: 'symlink', linkpath: `/${'l'.repeat(150)}/busybox` });
    expect(got[4].header).toMatchObject({ type: 'link', linkpath: 'etc/passwd' });
    expect(got[5].header).toMatchObject({ type: 'char', devmajor: 1, devminor: 3, mode: 0o666 });
    expect(got[6].header.type).toBe('fifo');
    expect(got[7]).toMatchObject({ header: { uname: 'ünïcode' }, data: 'ü' });
    expect(got[8].data).toBe('x'.repeat(5000));
    expect(got[0].header.mtime).toBe(1_700_000_000);
  }
});

test('the same entries always give the same bytes (build layers stay reproducible)', () => {
  expect(createTar(entries).equals(createTar(entries))).toBe(true);
});

test('GNU tar reads what we write', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hypr-tar-'));
  try {
    writeFileSync(join(dir, 'x.tar'), createTar(entries));
    const names = execFileSync('tar', ['-tf', join(dir, 'x.tar')], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(names).toEqual(entries.map((e) => (e.type === 'directory' ? `${e.path}/` : e.path)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('we read what GNU tar writes (GNU long names)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hypr-tar-'));
  try {
    const name = `${'g'.repeat(150)}.txt`;
    writeFileSync(join(dir, name), 'gnu');
    execFileSync('tar', ['--format=gnu', '-cf', join(dir, 'gnu.tar'), '-C', dir, name]);
    const got = await readAll(execFileSync('cat', [join(dir, 'gnu.tar')]));
    expect(got).toMatchObject([{ header: { path: name, type: 'file' }, data: 'gnu' }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an empty input is an empty archive; bodies left unread are skipped', async () => {
  expect(await readAll(Buffer.alloc(0))).toEqual([]);
  const names: string[] = [];
  for await (const { header } of readTar(chunks(createTar(entries)))) names.push(header.path);
  expect(names).toHaveLength(entries.length);
});

test('damaged archives are IMAGE_LAYER_INVALID: checksum, truncation, garbage', async () => {
  const tar = createTar(entries);
  const bad = Buffer.from(tar);
  bad[0] ^= 1; // the first header's checksum no longer matches
  await expect(readAll(bad)).rejects.toMatchObject({ code: 'IMAGE_LAYER_INVALID' });
  await expect(readAll(tar.subarray(0, tar.length - 1024 - 3000))).rejects.toMatchObject({
    code: 'IMAGE_LAYER_INVALID',
  });
  await expect(readAll(Buffer.from('not a tar at all'))).rejects.toMatchObject({ code: 'IMAGE_LAYER_INVALID' });
});
