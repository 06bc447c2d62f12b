import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { type Daemon, type E2eEnv, HYPRD, hypr, hyprOk, startDaemon, startE2eEnv, waitFor } from './helpers.js';

// VMs boot under TCG on a shared machine: allow for a slow, loaded host.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

// The daemon as a process: its socket, its lock, and VMs that outlive it (kill -9, restart).
let env: E2eEnv;
let d: Daemon;
beforeAll(async () => {
  env = await startE2eEnv();
  d = await startDaemon({ dir: env.dir });
  await hyprOk(d, ['pull', '-q', env.image]);
});
afterAll(async () => {
  await hypr(d, ['rm', '-f', 'one', 'two']).catch(() => {});
  await d?.shutdown();
  await env?.cleanup();
});

const psNames = async () =>
  (await hyprOk(d, ['ps', '--format', '{{.Names}} {{.State}}'])).trim().split('\n').filter(Boolean).sort();

test('the socket is 0660 and not world-accessible', () => {
  const mode = statSync(d.socket).mode & 0o777;
  expect(mode).toBe(0o660);
});

test('a second hyprd on the same HYPR_HOME refuses to start, saying which pid holds it', async () => {
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, [HYPRD, '-H', `unix://${join(env.dir, 'other.sock')}`], {
      env: { PATH: process.env.PATH, HYPR_HOME: d.home },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    p.stderr.on('data', (b) => {
      stderr += b;
    });
    p.on('exit', (code) => resolve({ code, stderr }));
  });
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain(`another hyprd (pid ${d.pid}) is already using ${d.home}`);
});

test('without a daemon the CLI says how to start one', async () => {
  const r = await hypr({ host: `unix://${join(env.dir, 'nobody.sock')}` }, ['ps']);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('Cannot connect to the HYPR daemon');
  expect(r.stderr).toContain('Is hyprd running?');
});

test('kill -9 of hyprd leaves the VMs running; a new hyprd re-adopts them: ps, logs, stop work, nothing lost or doubled', async () => {
  for (const name of ['one', 'two'])
    await hyprOk(d, [
      'run',
      '-d',
      '--name',
      name,
      env.image,
      'sh',
      '-c',
      `trap "echo ${name} stopping; exit 0" TERM; i=0; while true; do echo ${name} $i; i=$((i+1)); sleep 0.2; done`,
    ]);
  await waitFor(async () => (await hyprOk(d, ['logs', 'two'])).includes('two 1'), 120_000, 'output of both');
  await d.crash();
  // the stale socket and lock file of the dead daemon are left behind
  expect(statSync(d.socket).isSocket()).toBe(true);
  expect(readFileSync(join(d.home, 'hyprd.pid'), 'utf8').trim()).toBe(String(d.pid));
  await new Promise((r) => setTimeout(r, 1000)); // the VMs keep writing while no daemon runs
  d = await startDaemon({ dir: env.dir, home: d.home });
  expect(d.log()).toMatch(/"adopted":\["[a-f0-9]{64}","[a-f0-9]{64}"\]/);
  expect(await psNames()).toEqual(['one running', 'two running']);
  expect(await hyprOk(d, ['ps', '-a', '-q'])).toMatch(/^[a-f0-9]{12}\n[a-f0-9]{12}\n$/);
  // output written while no daemon ran is there, in order, once
  const logs = (await hyprOk(d, ['logs', 'one'])).trim().split('\n');
  expect(logs.length).toBeGreaterThan(5);
  expect(logs).toEqual(logs.map((_, i) => `one ${i}`));
  expect(await hyprOk(d, ['exec', 'two', 'echo', 'adopted'])).toBe('adopted\n');
  await hyprOk(d, ['stop', 'one', 'two']);
  // The exit reaches hyprd on the control channel and the last output on the stdout channel; the
  // shim may still be writing that line when stop returns (a known race, see docs/daemon.md).
  // (In two loaded CI-like runs `logs --tail 1` printed nothing here: the last entry was empty or the
  // line was missing. The full log is read so that the line itself is what is checked.)
  await waitFor(
    async () => (await hyprOk(d, ['logs', 'one'])).trimEnd().split('\n').at(-1) === 'one stopping',
    10_000,
    'the line the program printed on SIGTERM in its log',
  );
  expect(await hyprOk(d, ['ps', '-a', '--format', '{{.Names}} {{.Status}}'])).toMatch(
    /^(one|two) Exited \(0\) .*\n(one|two) Exited \(0\) /,
  );
  await hyprOk(d, ['rm', 'one', 'two']);
});

test('a VM that ends while hyprd is down is recorded as exited with its exit code', async () => {
  await hyprOk(d, ['run', '-d', '--name', 'short', env.image, 'sh', '-c', 'sleep 2; exit 42']);
  await d.crash();
  await new Promise((r) => setTimeout(r, 5000));
  d = await startDaemon({ dir: env.dir, home: d.home });
  expect(await hyprOk(d, ['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'short'])).toBe(
    'exited 42\n',
  );
  await hyprOk(d, ['rm', 'short']);
});

test('a --rm container whose VM ends while hyprd is down is removed when hyprd comes back, as docker does', async () => {
  const id = (await hyprOk(d, ['run', '-d', '--rm', '--name', 'gone', env.image, 'sh', '-c', 'sleep 2'])).trim();
  await d.crash();
  // The shim outlives hyprd and writes the VM's exit there when it ends.
  await waitFor(async () => existsSync(join(d.home, 'containers', id.slice(0, 12), 'exit.json')), 120_000, 'the exit');
  d = await startDaemon({ dir: env.dir, home: d.home });
  expect(await hyprOk(d, ['ps', '-a', '--filter', 'name=gone', '--format', '{{.Names}}'])).toBe('');
  expect(existsSync(join(d.home, 'containers', id.slice(0, 12)))).toBe(false);
});

test('SIGTERM stops hyprd gracefully: socket and lock removed, running VMs kept for the next daemon', async () => {
  await hyprOk(d, ['run', '-d', '--name', 'keeper', env.image, 'sleep', '600']);
  expect(await d.stop()).toBe(0);
  expect(() => statSync(d.socket)).toThrow();
  expect(() => statSync(join(d.home, 'hyprd.pid'))).toThrow();
  d = await startDaemon({ dir: env.dir, home: d.home });
  expect(await psNames()).toEqual(['keeper running']);
  await hyprOk(d, ['rm', '-f', 'keeper']);
});

test('daemon.json insecure-registries and defaults are read from HYPR_HOME', async () => {
  await d.stop();
  writeFileSync(
    join(d.home, 'daemon.json'),
    JSON.stringify({ bridge: 'none', 'default-memory-mib': 128, 'log-driver': 'ignored' }),
  );
  d = await startDaemon({ dir: env.dir, home: d.home });
  await hyprOk(d, ['create', '--name', 'small', env.image, 'true']);
  expect(await hyprOk(d, ['inspect', '--format', '{{.HostConfig.Memory}}', 'small'])).toBe(`${128 * 1024 * 1024}\n`);
  await hyprOk(d, ['rm', 'small']);
});
