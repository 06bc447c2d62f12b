/**
 * Nothing orphaned, nothing leaked (#23): kill -9 of a container's shim, of its hypervisor, and of
 * hyprd while a container starts; after each, `hypr ps -a` says the truth and `rm -f` leaves no
 * hypervisor, shim, virtiofsd, TAP or address lease; and another local user reads nothing under
 * the data root, a container's environment least of all. hyprd runs in a network namespace this test
 * makes (real bridge, TAPs and leases, all gone with the namespace); the image comes in with `hypr
 * load`. A last daemon boots guests with a Kestrel that exits at once: the kernel panics, and the
 * start fails with the reason.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { buildBusyboxImage, writeTestOciLayout } from '../../packages/core/test/helpers/busybox-image.js';
import { assertVmPrerequisites } from '../../packages/core/test/helpers/vm.js';
import { HYPRD, hypr, hyprOk, waitFor } from './helpers.js';

// VMs boot under TCG on a shared, loaded machine, and each CLI call is a node process.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const NS = `hypr-rel-${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const IMAGE = 'hypr-e2e/relbox:latest';
let dir: string;
let home: string;
let socket: string;
let proc: ChildProcess | undefined;
let exited: Promise<unknown> = Promise.resolve();
const d = { host: '' };

/** Processes that run containers: shims, hypervisors, virtiofsd (zombies have no command line). */
const CONTAINER_PROCESS = /hypr-shim|qemu-system|cloud-hypervisor|virtiofsd/;

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
}

/** Container processes in the test's namespace, as `pid command line`; the namespace holds only ours. */
function containerProcesses(): { pid: number; cmd: string }[] {
  let pids: number[];
  try {
    pids = execFileSync('ip', ['netns', 'pids', NS], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return pids.map((pid) => ({ pid, cmd: commandLine(pid) })).filter((p) => CONTAINER_PROCESS.test(p.cmd));
}

/** The container's processes of one kind: the shim, the hypervisor, virtiofsd. */
const ofKind = (kind: RegExp) => containerProcesses().filter((p) => kind.test(p.cmd));

const taps = (): string[] =>
  (JSON.parse(execFileSync('ip', ['-n', NS, '-j', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string }[])
    .map((l) => l.ifname)
    .filter((n) => n.startsWith('hyprt'));

/** The containers holding an address on the default network (docker's network inspect Containers). */
const leaseHolders = async (): Promise<string[]> =>
  Object.keys(JSON.parse(await hyprOk(d, ['network', 'inspect', 'bridge']))[0].Containers ?? {});

const state = async (name: string) =>
  (await hyprOk(d, ['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', name])).trim();

async function startDaemonInNs(env: NodeJS.ProcessEnv = {}): Promise<void> {
  const logPath = join(dir, 'hyprd.log');
  const fd = openSync(logPath, 'a');
  const p = spawn('ip', ['netns', 'exec', NS, process.execPath, HYPRD, '-H', `unix://${socket}`], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HYPR_HOME: home, HYPR_LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  proc = p;
  exited = new Promise((r) => p.once('exit', r));
  const mark = readFileSync(logPath, 'utf8').length;
  const deadline = Date.now() + 120_000;
  while (!(existsSync(socket) && readFileSync(logPath, 'utf8').slice(mark).includes('hyprd listening'))) {
    if (p.exitCode !== null || Date.now() > deadline)
      throw new Error(`hyprd did not start:\n${readFileSync(logPath, 'utf8').slice(mark)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  d.host = `unix://${socket}`;
}

/** kill -9 of hyprd (`ip netns exec` execs it: the pid is hyprd's own). */
async function crashDaemon(): Promise<void> {
  expect(commandLine(proc?.pid ?? 0)).toContain('hyprd');
  proc?.kill('SIGKILL');
  await exited;
}

async function stopDaemon(): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
  if (proc.exitCode === null && proc.signalCode === null) await crashDaemon();
}

/** After rm -f: nothing of the container is left — process, TAP, or lease. */
async function expectNothingLeft(id: string): Promise<void> {
  expect(containerProcesses()).toEqual([]);
  expect(taps()).toEqual([]);
  expect(await leaseHolders()).not.toContain(id);
  expect(readdirSync(join(home, 'containers'))).not.toContain(id.slice(0, 12));
}

beforeAll(async () => {
  assertVmPrerequisites();
  dir = await mkdtemp(join(tmpdir(), 'hypr-e2e-rel-'));
  home = join(dir, 'home');
  socket = join(dir, 'hyprd.sock');
  execFileSync('ip', ['netns', 'add', NS]);
  execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
  const image = await buildBusyboxImage({ config: { Cmd: ['sh'], Env: ['PATH=/bin'] } });
  const layout = join(dir, 'layout');
  await writeTestOciLayout(layout, image);
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  index.manifests[0].annotations['io.containerd.image.name'] = IMAGE;
  await writeFile(join(layout, 'index.json'), JSON.stringify(index));
  execFileSync('tar', ['-cf', join(dir, 'image.tar'), '-C', layout, '.']);
  // An install an older HYPR made under a lax umask: hyprd makes it private when it starts.
  chmodSync(dir, 0o711);
  mkdirSync(join(home, 'volumes'), { recursive: true });
  writeFileSync(join(home, 'hypr.db'), '');
  for (const [p, mode] of [
    [home, 0o755],
    [join(home, 'volumes'), 0o755],
    [join(home, 'hypr.db'), 0o644],
  ] as const)
    chmodSync(p, mode);
  await startDaemonInNs();
  await hyprOk(d, ['load', '-i', join(dir, 'image.tar')]);
});

afterAll(async () => {
  try {
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const ids = (await hypr(d, ['ps', '-a', '-q'])).stdout.split('\n').filter(Boolean);
      if (ids.length) await hypr(d, ['rm', '-f', ...ids], { timeoutMs: 120_000 });
      await stopDaemon();
    }
  } finally {
    // Whatever a failed test left: its processes, then the namespace with its bridge and TAPs.
    for (const p of containerProcesses()) process.kill(p.pid, 'SIGKILL');
    try {
      execFileSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  }
});

/** Every path under `root`, walked as root. */
function walk(root: string): string[] {
  return readdirSync(root, { withFileTypes: true }).flatMap((e) => {
    const p = join(root, e.name);
    return e.isDirectory() ? [p, ...walk(p)] : [p];
  });
}

test("another local user reads nothing under the data root, a container's secret least of all", async () => {
  const secret = `hunter2-${process.pid}`;
  await hyprOk(d, ['run', '-d', '--name', 'sec', '-e', `DB_PASSWORD=${secret}`, IMAGE, 'sleep', '600']);
  const probe = `hyprrel${process.pid}`;
  execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', probe]);
  try {
    const readsAs = (path: string) => {
      const argv = statSync(path).isDirectory() ? ['ls', path] : ['cat', path];
      return spawnSync('runuser', ['-u', probe, '--', ...argv], { stdio: 'ignore' }).status === 0;
    };
    const small = (p: string) => statSync(p).isFile() && statSync(p).size < 16 << 20; // not the disk images
    const holders = walk(home).filter((p) => small(p) && readFileSync(p).includes(secret));
    expect(holders.length).toBeGreaterThan(0); // the check below has something to protect
    expect([home, ...walk(home)].filter(readsAs)).toEqual([]);
    expect(statSync(home).mode & 0o777).toBe(0o711);
  } finally {
    execFileSync('userdel', [probe]);
  }
  await hyprOk(d, ['rm', '-f', 'sec']);
});

test('kill -9 of the shim takes its VM and virtiofsd down; ps -a says exited; rm -f leaves nothing', async () => {
  const id = (await hyprOk(d, ['run', '-d', '--name', 'sup', '-v', 'relvol:/data', IMAGE, 'sleep', '600'])).trim();
  const [shim] = ofKind(/hypr-shim/);
  expect(shim?.cmd).toContain(id.slice(0, 12));
  expect(ofKind(/qemu-system/)).toHaveLength(1);
  // Volumes go over virtio-fs where the host has virtiofsd (else 9p, served by QEMU itself).
  const virtiofsd = ['/usr/libexec/virtiofsd', '/usr/lib/qemu/virtiofsd'].some((p) => existsSync(p));
  expect(ofKind(/virtiofsd/)).toHaveLength(virtiofsd ? 1 : 0);
  expect(taps()).toHaveLength(1);
  expect(await leaseHolders()).toContain(id);
  process.kill(shim.pid, 'SIGKILL');
  await waitFor(async () => (await state('sup')).startsWith('exited'), 60_000, 'sup to show as exited');
  // By the time the exit is recorded, nothing of the VM runs any more.
  expect(containerProcesses()).toEqual([]);
  expect(await hyprOk(d, ['inspect', '--format', '{{.State.Error}}', 'sup'])).toMatch(/shim/);
  await waitFor(async () => taps().length === 0, 30_000, 'the TAP to be deleted');
  await hyprOk(d, ['rm', '-f', '-v', 'sup']);
  await expectNothingLeft(id);
});

test('kill -9 of the hypervisor: ps -a says exited; rm -f leaves nothing', async () => {
  const id = (await hyprOk(d, ['run', '-d', '--name', 'hv', IMAGE, 'sleep', '600'])).trim();
  const [qemu] = ofKind(/qemu-system/);
  expect(qemu).toBeDefined();
  process.kill(qemu.pid, 'SIGKILL');
  await waitFor(async () => (await state('hv')).startsWith('exited'), 60_000, 'hv to show as exited');
  expect(containerProcesses()).toEqual([]);
  await hyprOk(d, ['rm', '-f', 'hv']);
  await expectNothingLeft(id);
});

for (const moment of ['hypr-shim', 'qemu-system'])
  test(`kill -9 of hyprd the moment the ${moment} process appears: the VM is adopted or gone, never orphaned`, async () => {
    const name = `orph-${moment}`;
    const run = hypr(d, ['run', '-d', '--name', name, IMAGE, 'sleep', '600']);
    const deadline = Date.now() + 120_000;
    while (!ofKind(new RegExp(moment)).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(ofKind(new RegExp(moment))).not.toEqual([]);
    await crashDaemon();
    await run;
    await startDaemonInNs();
    // ps -a says the truth: running exactly when its VM runs.
    const [status] = (await state(name)).split(' ');
    const hypervisors = ofKind(/qemu-system/).length;
    expect(`${status} ${hypervisors}`).toMatch(/^(running 1|exited 0|created 0)$/);
    const id = (await hyprOk(d, ['inspect', '--format', '{{.Id}}', name])).trim();
    await hyprOk(d, ['rm', '-f', name]);
    await expectNothingLeft(id);
  });

test('a guest whose kernel panics at boot is a failed start: run exits non-zero with the reason, inspect shows it', async () => {
  // A Kestrel that exits at once: the kernel panics ("Attempted to kill init!").
  const src = join(dir, 'quit.c');
  writeFileSync(src, 'int main(void) { return 3; }\n');
  execFileSync('musl-gcc', ['-static', '-Os', '-o', join(dir, 'quit'), src]);
  await stopDaemon();
  await startDaemonInNs({ HYPR_KESTREL: join(dir, 'quit') });
  const r = await hypr(d, ['run', '-d', '--name', 'panics', IMAGE, 'true']);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/kernel panicked/);
  expect(await state('panics')).not.toMatch(/^running/);
  expect(await hyprOk(d, ['inspect', '--format', '{{.State.Error}}', 'panics'])).toMatch(/kernel panicked/);
  expect(containerProcesses()).toEqual([]);
  await hyprOk(d, ['rm', 'panics']);
});
