import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { parseCpTarget } from './commands/cp.js';
import { extractTar, localTar } from './copy-tar.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'copy-tar-'));
  mkdirSync(join(dir, 'src/sub'), { recursive: true });
  writeFileSync(join(dir, 'src/a.txt'), 'alpha');
  writeFileSync(join(dir, 'src/sub/empty'), '');
  symlinkSync('a.txt', join(dir, 'src/link'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('a directory goes through the tar under a new name, links and empty files kept', async () => {
  const tar = localTar(join(dir, 'src'), 'renamed', { keepOwner: false, contents: false, follow: false });
  await extractTar(tar, join(dir, 'out'), false);
  expect(readFileSync(join(dir, 'out/a.txt'), 'utf8')).toBe('alpha');
  expect(readFileSync(join(dir, 'out/sub/empty'), 'utf8')).toBe('');
  expect(readlinkSync(join(dir, 'out/link'))).toBe('a.txt');
});

test('contents mode puts the children at the top of the tar', async () => {
  const chunks: Buffer[] = [];
  for await (const c of localTar(join(dir, 'src'), 'x', { keepOwner: false, contents: true, follow: false }))
    chunks.push(c);
  const text = Buffer.concat(chunks).toString('latin1');
  expect(text).toContain('a.txt');
  expect(text).not.toContain('x/');
});

test('cp arguments: NAME:PATH is a container, absolute and ./ paths never are', () => {
  expect(parseCpTarget('web:/etc/passwd')).toEqual({ container: 'web', path: '/etc/passwd' });
  expect(parseCpTarget('/tmp/a:b')).toEqual({ path: '/tmp/a:b' });
  expect(parseCpTarget('./a:b')).toEqual({ path: './a:b' });
  expect(parseCpTarget('-')).toEqual({ path: '-' });
});
