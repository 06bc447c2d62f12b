// The single executables of scripts/build-sea.sh run HYPR with no node and no checkout (test/install/sea.sh).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect, test } from 'vitest';

/** Runs the script without blocking the worker (vitest talks to it while the script runs for minutes). */
function runScript(path: string, timeoutMs: number): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b) => {
      out += b;
    });
    child.stderr.on('data', (b) => {
      out += b;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, out });
    });
  });
}

test(
  'the single-executable hypr and hyprd, copied alone, run a container with no node and the checkout hidden',
  async () => {
    const { status, out } = await runScript(join(import.meta.dirname, 'sea.sh'), 12 * 60_000);
    expect(out, out).not.toContain('FAIL:');
    expect(status, out).toBe(0);
    expect(out).toContain('ok: hyprd --print-service systemd starts the single executable itself');
    expect(out).toContain('ok: the single-executable hyprd + hypr run a container with no node and no checkout');
    expect(out).toContain('ok: the exit status comes back');
  },
  13 * 60_000,
);
