import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { writeCpio, writeCpioGz } from './initramfs.js';

const entries = [
  { path: 'init', mode: 0o755, data: Buffer.from('#!/bin/sh\necho hi\n') },
  { path: 'hypr', type: 'dir' as const, mode: 0o700 },
  { path: 'hypr/job', mode: 0o400, data: 'A=sh\0A=-c\0' },
  { path: 'hypr/odd name é', data: 'x'.repeat(5) },
  { path: 'hypr/link', type: 'symlink' as const, target: '../init' },
];

test('GNU cpio lists what we wrote, in order', () => {
  const listing = execFileSync('cpio', ['-t', '--quiet'], { input: writeCpio(entries) }).toString();
  expect(listing.trim().split('\n')).toEqual(['init', 'hypr', 'hypr/job', 'hypr/odd name é', 'hypr/link']);
});

test('GNU cpio extracts the same bytes, modes and symlinks', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cpio-'));
  try {
    execFileSync('cpio', ['-i', '--quiet', '--make-directories', '--no-absolute-filenames'], {
      cwd: dir,
      input: writeCpio(entries),
    });
    expect(await readFile(join(dir, 'init'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
    expect((await stat(join(dir, 'init'))).mode & 0o7777).toBe(0o755);
    expect((await stat(join(dir, 'hypr/job'))).mode & 0o7777).toBe(0o400);
    expect(await readFile(join(dir, 'hypr/job'), 'utf8')).toBe('A=sh\0A=-c\0');
    expect(await readFile(join(dir, 'hypr/odd name é'), 'utf8')).toBe('xxxxx');
    expect(await readlink(join(dir, 'hypr/link'))).toBe('../init');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('busybox cpio reads the gzip variant too', () => {
  const plain = execFileSync('sh', ['-c', 'gunzip | busybox cpio -t 2>/dev/null'], {
    input: writeCpioGz(entries),
  }).toString();
  expect(plain.trim().split('\n')).toContain('hypr/job');
});

test('any file content and name length round-trips through cpio', () => {
  fc.assert(
    // '..' is refused by design (the test below): any other name of these characters is kept.
    fc.property(
      fc.uint8Array({ maxLength: 300 }),
      fc.stringMatching(/^[a-z0-9._-]{1,40}$/).filter((n) => n !== '..'),
      (bytes, name) => {
        const archive = writeCpio([{ path: name, data: Buffer.from(bytes) }]);
        expect(archive.length % 4).toBe(0);
        const listing = execFileSync('cpio', ['-t', '--quiet'], { input: archive }).toString();
        expect(listing).toBe(`${name}\n`);
      },
    ),
    { numRuns: 25 },
  );
});

test('paths that climb out are refused', () => {
  expect(() => writeCpio([{ path: '../etc/passwd', data: 'x' }])).toThrow(/invalid path/);
});
