import { type ChildProcess, spawn } from 'node:child_process';
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

test('the lock holds this pid, is private, and is released', () => {
  const path = join(dir, 'hyprd.pid');
  const release = acquireDaemonLock(path, dir);
  expect(readFileSync(path, 'utf8').trim()).toBe(String(process.pid));
  expect(statSync(path).mode & 0o777).toBe(0o600);
  expect(statSync(join(dir, 'hyprd.lock')).mode & 0o777).toBe(0o600);
  expect(() => acquireDaemonLock(path, dir)).toThrow(`another hyprd (pid ${process.pid}) is already using ${dir}`);
  release();
  expect(() => readFileSync(path)).toThrow();
  acquireDaemonLock(path, dir)();
});

test('a pid file left by a crash has no say, even when its pid now belongs to a live process', () => {
  const path = join(dir, 'hyprd.pid');
  for (const stale of ['999999999', String(process.ppid)]) {
    writeFileSync(path, `${stale}\n`);
    const release = acquireDaemonLock(path, dir);
    expect(readFileSync(path, 'utf8').trim()).toBe(String(process.pid));
    release();
  }
});

// The compiled module, as hyprd runs it: each contender is a process of its own.
const LOCK_JS = join(import.meta.dirname, '../dist/lock.js');
const CONTENDER = `
  const { acquireDaemonLock } = await import(${JSON.stringify(LOCK_JS)});
  try { acquireDaemonLock(process.argv[1], 'root'); console.log('won'); }
  catch (e) { console.log(e.code); process.exit(0); }
  process.stdin.resume();`;

interface Contender {
  proc: ChildProcess;
  outcome: Promise<string>;
}

function contend(pidPath: string): Contender {
  const proc = spawn(process.execPath, ['--input-type=module', '-e', CONTENDER, pidPath], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const outcome = new Promise<string>((resolve) => {
    let out = '';
    proc.stdout?.on('data', (b) => {
      out += b;
      if (out.includes('\n')) resolve(out.trim());
    });
    proc.once('exit', () => resolve(out.trim() || 'exited'));
  });
  return { proc, outcome };
}

test('of many daemons starting at once exactly one takes the lock; kill -9 of it frees the lock', async () => {
  const pidPath = join(dir, 'hyprd.pid');
  writeFileSync(pidPath, '999999999\n'); // a stale pid file from a crashed daemon
  for (let round = 0; round < 2; round++) {
    const all = Array.from({ length: 8 }, () => contend(pidPath));
    const outcomes = await Promise.all(all.map((c) => c.outcome));
    expect(outcomes.filter((o) => o === 'won')).toHaveLength(1);
    expect(outcomes.filter((o) => o !== 'won')).toEqual(Array(7).fill('DAEMON_ALREADY_RUNNING'));
    const winner = all[outcomes.indexOf('won')];
    expect(readFileSync(pidPath, 'utf8').trim()).toBe(String(winner.proc.pid));
    const gone = new Promise((r) => winner.proc.once('exit', r));
    winner.proc.kill('SIGKILL');
    await gone;
  }
}, 300_000);
