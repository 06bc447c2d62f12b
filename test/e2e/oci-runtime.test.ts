/**
 * hypr-runtime under real engines from Debian: Podman (through conmon) and containerd (through its
 * runc shim, `ctr run --runc-binary`) run a busybox image as HYPR microVMs; Podman's bridge network
 * and `-p` reach a VM that took over the container's network namespace. Everything runs in a
 * network namespace this file makes, with private storage and state for both engines and for the
 * runtime (--root), so nothing is left on the host.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildBusyboxImage, writeTestOciLayout } from '../../packages/core/test/helpers/busybox-image.js';
import { assertVmPrerequisites } from '../../packages/core/test/helpers/vm.js';
import { ROOT } from './helpers.js';

const RUNTIME = join(ROOT, 'packages/runtime/bin/hypr-runtime.js');
const NS = `hyprrt${process.pid}`;
let dir = '';
let wrapper = '';
let runtimeRoot = '';
let podmanImage = '';
let containerd: ChildProcess | undefined;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command inside the test's network namespace; never throws on a non-zero exit. */
function inNs(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    // nsenter enters only the network namespace: `ip netns exec` would give each command a mount
    // namespace of its own, and podman's `rm` could not see the namespace `run` bound under
    // /run/netns, so the CNI teardown (and its address lease) would be skipped.
    const child = spawn('nsenter', [`--net=/run/netns/${NS}`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 240_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.end(opts.input ?? '');
  });
}

function podmanArgs(...args: string[]): string[] {
  return [
    'podman',
    '--root',
    join(dir, 'podman/root'),
    '--runroot',
    join(dir, 'podman/run'),
    '--storage-driver',
    'vfs',
    '--cgroup-manager',
    'cgroupfs',
    '--events-backend',
    'file',
    '--runtime',
    wrapper,
    ...args,
  ];
}

const podman = (args: string[], opts?: { input?: string }) => inNs(podmanArgs(...args), opts);

/** The containers the runtime still keeps state for. */
const runtimeContainers = () => (existsSync(runtimeRoot) ? readdirSync(runtimeRoot) : []);

beforeAll(async () => {
  assertVmPrerequisites();
  for (const b of ['podman', 'conmon', 'containerd', 'ctr', 'ip'])
    execFileSync('sh', ['-c', `command -v ${b}`], { stdio: 'ignore' }); // throws: install podman conmon containerd
  // Lower case only: podman names an image pulled from oci:DIR after DIR.
  dir = join(tmpdir(), `hypr-oci-${process.pid}-${Date.now().toString(36)}`);
  await mkdir(dir, { recursive: true });
  runtimeRoot = join(dir, 'runtime');
  // Engines take a runtime binary: a script that runs ours with its state in this test's directory.
  wrapper = join(dir, 'hypr-runtime');
  await writeFile(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${RUNTIME}" --root "${runtimeRoot}" "$@"\n`);
  await chmod(wrapper, 0o755);
  const layout = join(dir, 'oci');
  await writeTestOciLayout(layout, await buildBusyboxImage(), 'latest');
  execFileSync('tar', ['-C', layout, '-cf', join(dir, 'oci.tar'), '.']);
  execFileSync('ip', ['netns', 'add', NS]);
  execFileSync('ip', ['netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up']);
  const pulled = await podman(['pull', '-q', `oci:${layout}:latest`]);
  expect(pulled.code, pulled.stderr).toBe(0);
  podmanImage = pulled.stdout.trim();
}, 300_000);

afterAll(async () => {
  if (podmanImage) await podman(['rm', '-f', '-a']).catch(() => undefined);
  containerd?.kill('SIGTERM');
  try {
    for (const pid of execFileSync('ip', ['netns', 'pids', NS], { encoding: 'utf8' }).split('\n').filter(Boolean))
      process.kill(Number(pid), 'SIGKILL');
    execFileSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
  } catch {
    /* the namespace was never made */
  }
  if (dir) await rm(dir, { recursive: true, force: true });
}, 120_000);

describe('podman with --runtime hypr-runtime', () => {
  test('run --rm runs the program in a VM of its own kernel, with its output, exit code and -v', async () => {
    // A bind mount (-v) of a host directory is shared into the VM.
    const shared = join(dir, 'shared');
    await mkdir(shared, { recursive: true });
    await writeFile(join(shared, 'note.txt'), 'from the host\n');
    const program = 'uname -r; cat /data/note.txt; echo to-stderr >&2; exit 3';
    const r = await podman([
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      `${shared}:/data:ro`,
      podmanImage,
      'sh',
      '-c',
      program,
    ]);
    expect(r.code, r.stderr).toBe(3);
    const [kernel, note] = r.stdout.trim().split('\n');
    expect(kernel).not.toBe('');
    expect(kernel).not.toBe(release());
    expect(note).toBe('from the host');
    expect(r.stderr).toContain('to-stderr');
    expect(runtimeContainers()).toEqual([]);
  }, 300_000);

  test('run -i feeds the program its stdin', async () => {
    const r = await podman(
      ['run', '-i', '--rm', '--network', 'none', podmanImage, 'sh', '-c', 'read l; echo "got $l"'],
      {
        input: 'hello\n',
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('got hello');
  }, 300_000);

  test('run -d, logs, exec, stop and rm work on a container that keeps running', async () => {
    const run = await podman(['run', '-d', '--network', 'none', podmanImage, 'sh', '-c', 'echo started; sleep 600']);
    expect(run.code, run.stderr).toBe(0);
    const id = run.stdout.trim();
    // start returns once the program runs; its first line may still be on its way to conmon's log.
    let logs = '';
    for (let i = 0; i < 100 && !logs.includes('started'); i++) {
      logs = (await podman(['logs', id])).stdout;
      if (!logs.includes('started')) await new Promise((r) => setTimeout(r, 200));
    }
    expect(logs).toContain('started');
    const state = await podman(['inspect', '--format', '{{.State.Status}}', id]);
    expect(state.stdout.trim()).toBe('running');
    const exec = await podman(['exec', id, 'echo', 'inside']);
    expect(exec.code, exec.stderr).toBe(0);
    expect(exec.stdout.trim()).toBe('inside');
    const failing = await podman(['exec', id, 'sh', '-c', 'exit 5']);
    expect(failing.code).toBe(5);
    // stop sends SIGTERM through the runtime: sh has no handler, so it ends at once with 128+15.
    const stop = await podman(['stop', '-t', '30', id]);
    expect(stop.code, stop.stderr).toBe(0);
    const stopped = await podman(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', id]);
    expect(stopped.stdout.trim()).toBe('exited 143');
    const rm = await podman(['rm', id]);
    expect(rm.code, rm.stderr).toBe(0);
    expect(runtimeContainers()).toEqual([]);
  }, 300_000);

  test("run -p reaches a server in the VM, which took over the address podman's network gave it", async () => {
    const server = 'mkdir -p /w && echo hello-net > /w/index.html && exec httpd -f -p 8080 -h /w';
    const run = await podman([
      'run',
      '-d',
      '-p',
      '18080:8080',
      '--add-host',
      'db.example:10.1.2.3',
      podmanImage,
      'sh',
      '-c',
      server,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const id = run.stdout.trim();
    const get = async (url: string) => (await inNs(['curl', '-sf', '-m', '5', url])).stdout;
    let page = '';
    for (let i = 0; i < 150 && !page.includes('hello-net'); i++) {
      page = await get('http://127.0.0.1:18080/');
      if (!page.includes('hello-net')) await new Promise((r) => setTimeout(r, 200));
    }
    expect(page).toContain('hello-net');
    // The VM's own eth0 holds the address podman's network gave the container, and answers on it.
    const inVm = await podman(['exec', id, 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
    const address = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(inVm.stdout)?.[1];
    expect(address, inVm.stdout + inVm.stderr).toBeDefined();
    expect(await get(`http://${address}:8080/`)).toContain('hello-net');
    // Podman's /etc/hosts entries (--add-host) are in the VM's.
    expect((await podman(['exec', id, 'cat', '/etc/hosts'])).stdout).toMatch(/10\.1\.2\.3\s+db\.example/);
    expect((await podman(['rm', '-f', id])).code).toBe(0);
  }, 300_000);
});

describe('containerd with its runc shim driving hypr-runtime', () => {
  const ctr = (...args: string[]) => inNs(['ctr', '--address', join(dir, 'containerd.sock'), ...args]);

  test('ctr run runs the image in a VM and returns the exit code', async () => {
    const state = join(dir, 'containerd');
    await mkdir(state, { recursive: true });
    const address = ['--address', join(dir, 'containerd.sock')];
    const storage = ['--root', join(state, 'root'), '--state', join(state, 'state')];
    containerd = spawn('nsenter', [`--net=/run/netns/${NS}`, 'containerd', ...storage, ...address], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 600 && !existsSync(join(dir, 'containerd.sock')); i++)
      await new Promise((r) => setTimeout(r, 100));
    const imported = await ctr('images', 'import', '--base-name', 'localhost/busybox', join(dir, 'oci.tar'));
    expect(imported.code, imported.stderr).toBe(0);
    const r = await ctr(
      'run',
      '--rm',
      '--runtime',
      'io.containerd.runc.v2',
      '--runc-binary',
      wrapper,
      'localhost/busybox:latest',
      'hyprctr',
      'sh',
      '-c',
      'uname -r; exit 4',
    );
    expect(r.code, r.stderr).toBe(4);
    expect(r.stdout.trim()).not.toBe('');
    expect(r.stdout.trim()).not.toBe(release());
    // The shim passes its own --root (after the wrapper's): the container's state went there, and is gone.
    expect(existsSync('/run/containerd/runc/default/hyprctr')).toBe(false);
  }, 300_000);
});
