import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { acquireDaemonLock } from './lock.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hypr-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('the lock holds this pid and is released', () => {
  const path = join(dir, 'hyprd.pid');
  const release = acquireDaemonLock(path, dir);
  expect(readFileSync(path, 'utf8').trim()).toBe(String(process.pid));
  expect(statSync(path).mode & 0o777).toBe(0o600);
  release();
  expect(() => readFileSync(path)).toThrow();
});

test('a live holder is refused with its pid; a dead one is taken over', () => {
  const path = join(dir, 'hyprd.pid');
  writeFileSync(path, `${process.ppid}\n`); // alive: our parent
  expect(() => acquireDaemonLock(path, dir)).toThrow(`another hyprd (pid ${process.ppid}) is already using ${dir}`);
  writeFileSync(path, '999999999\n'); // no such process
  const release = acquireDaemonLock(path, dir);
  expect(readFileSync(path, 'utf8').trim()).toBe(String(process.pid));
  release();
});
