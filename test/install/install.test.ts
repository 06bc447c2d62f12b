// HYPR installed as users install it: packed tarballs, npm, the checkout hidden (test/install/installed.sh).
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
  'the packed packages install outside the checkout and run VMs, containers, builds and stacks',
  async () => {
    const { status, out } = await runScript(join(import.meta.dirname, 'installed.sh'), 15 * 60_000);
    expect(out, out).not.toContain('FAIL:');
    expect(status, out).toBe(0);
    expect(out).toContain('ok: @hypr/cli installs without a native module');
    expect(out).toContain('ok: @hypr/api ships the');
    expect(out).toContain('ok: @hypr/cli ships its bundle');
    expect(out).toContain('ok: the installed hyprd prints a systemd unit with its installed paths');
    expect(out).toContain('ok: the installed hyprd + hypr run a container');
    expect(out).toContain('ok: the installed hypr builds an image');
    expect(out).toContain('ok: the installed hypr runs a compose stack up and down');
  },
  16 * 60_000,
);
