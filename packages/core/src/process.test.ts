import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { findExecutable, spawnChild, withParentDeath } from './process.js';

const linux = process.platform === 'linux';

function alive(pid: number): boolean {
  try {
    // A zombie (killed, not yet reaped by init) has no command line left.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').length > 0;
  } catch {
    return false;
  }
}

test('a binary on PATH is found; a missing one is not, so its spawn fails with ENOENT as before', async () => {
  expect(findExecutable('sh')).toMatch(/\/sh$/);
  expect(findExecutable('no-such-binary-hypr')).toBeUndefined();
  await expect(spawnChild('no-such-binary-hypr', []).exited).rejects.toThrow('no-such-binary-hypr: not found');
});

test.skipIf(!linux)('children run under setpriv --pdeathsig KILL', () => {
  const [command, args] = withParentDeath('sleep', ['1'], { PATH: process.env.PATH });
  expect(command).toMatch(/setpriv$/);
  expect(args).toEqual(['--pdeathsig', 'KILL', '--', findExecutable('sleep'), '1']);
});

// The compiled module, in a process of its own that we then kill -9.
const PROCESS_JS = join(import.meta.dirname, '../dist/process.js');

test.skipIf(!linux)(
  'a child started with spawnChild dies when its owner is killed with -9',
  async () => {
    const script = `const { spawnChild } = await import(${JSON.stringify(PROCESS_JS)});
    const c = spawnChild('sleep', ['600']); console.log(c.pid); process.stdin.resume();`;
    const owner = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const pid = await new Promise<number>((resolve) => owner.stdout.once('data', (b) => resolve(Number(String(b)))));
    // The pid is printed as soon as the fork returns: its exec of setpriv, then sleep, may still be under way.
    const cmdline = () => (alive(pid) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '');
    const started = Date.now() + 10_000;
    while (!cmdline().includes('sleep') && Date.now() < started) await new Promise((r) => setTimeout(r, 20));
    expect(cmdline()).toContain('sleep');
    owner.kill('SIGKILL');
    const deadline = Date.now() + 30_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive(pid)).toBe(false);
  },
  60_000,
);
