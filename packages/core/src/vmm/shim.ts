/**
 * The per-container shim, host side. A shim (shim/hypr-shim.c; its contract is shim/PROTOCOL.md)
 * is a small static C process that owns one VM: it runs the hypervisor and its helpers, appends the
 * program's output to a docker json-file log, serves clients on a Unix socket, and writes the exit
 * status to a file when the VM ends. It lives in its own session, so a `kill -9` of hyprd leaves
 * the VM running; a new hyprd re-adopts it with adoptShim. Everything that needs Node — the
 * writable disk, the initramfs, the hypervisor's command line — is done here before it starts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { type Socket, connect } from 'node:net';
import { basename, join, resolve } from 'node:path';
import { HyprError } from '../errors.js';
import { guestChannelSpecs } from './channels.js';
import type { ExecOptions, ExecSession } from './exec-session.js';
import { prepareGuestVm } from './guest-vm.js';
import { findShimBinary } from './shim-binary.js';
import {
  type ShimClient,
  type ShimConnection,
  type ShimProcessEnd,
  readShimExit,
  readShimState,
  shimConnection,
} from './shim-client.js';
import { type RecordedProcess, endShimProcesses, findShimProcesses } from './shim-processes.js';
import { SHIM_FILES, type ShimExit, type ShimVmConfig, encodeShimArgs } from './shim-protocol.js';
import { createWritableDisk } from './writable-disk.js';

export { SHIM_FILES, type ShimExit, type ShimState, type ShimVmConfig } from './shim-protocol.js';
export { type ShimAttachment, type ShimClient, readShimExit, readShimState } from './shim-client.js';
export {
  type RecordedProcess,
  endShimProcesses,
  findShimProcesses,
  processStartTicks,
} from './shim-processes.js';

/** An exec through the shim takes and gives what an exec into a VM does. */
export type ShimExecOptions = ExecOptions;
export type ShimExecSession = ExecSession;

function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * How long a shim may take to boot its VM and start the program. Generous: under TCG on a loaded
 * host (dozens of guests on two cores) a boot takes tens of seconds.
 */
const SHIM_START_TIMEOUT_MS = 300_000;

/** The processes state.json recorded for the shim of `dir` (see findShimProcesses). */
export function recordedShimProcesses(dir: string): RecordedProcess[] {
  const s = readShimState(dir);
  if (!s) return [];
  return [
    { pid: s.pid, startTicks: s.pidStartTicks },
    ...(s.vmPid ? [{ pid: s.vmPid, startTicks: s.vmStartTicks }] : []),
  ];
}

/** Waits for every one of `work` (nothing is left in flight), then fails with the first failure. */
async function settleAll(work: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(work)).find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

/** An empty DIR/vm: made by one mkdir on a first start; a restart's old one is replaced. */
async function freshDir(path: string): Promise<void> {
  try {
    await mkdir(path, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    await rm(path, { recursive: true, force: true });
    await mkdir(path, { mode: 0o700 });
  }
}

/**
 * Lays the VM out under DIR/vm and writes DIR/shim.args: what the shim will run. The files of a
 * previous run go and the writable disk is made side by side; the VM's files (the initramfs) need
 * the disk, shim.args the VM's command line.
 *
 * The small files are written with one synchronous call each: that costs microseconds (the page
 * cache), where an asynchronous write waits on libuv's thread pool three times (open, write,
 * close), milliseconds each on a loaded host, all of it before the VM can start. Deletions stay
 * asynchronous: freeing blocks can take milliseconds (a filesystem mounted with discard).
 */
async function prepareShim(dir: string, vm: ShimVmConfig, spareDir: string | undefined): Promise<void> {
  const work = join(dir, SHIM_FILES.vm);
  writeFileSync(join(dir, SHIM_FILES.config), JSON.stringify(vm), { mode: 0o600 });
  await settleAll([
    ...[SHIM_FILES.exit, SHIM_FILES.socket, SHIM_FILES.state].map((f) => rm(join(dir, f), { force: true })),
    freshDir(work),
    ...(vm.writableDisk ? [createWritableDisk(vm.writableDisk.path, vm.writableDisk.sizeMiB, { spareDir })] : []),
  ]);
  const { writableDisk, ...vmConfig } = vm;
  const prepared = await prepareGuestVm(
    { ...vmConfig, writableDisk: writableDisk?.path, exec: true },
    { work, name: basename(dir).slice(0, 12), channels: guestChannelSpecs(work, { exec: true, stdin: vm.stdin }) },
  );
  const args = encodeShimArgs(prepared, {
    vmmLog: join(work, 'vmm.log'),
    stopGraceMs: vm.stopGraceMs,
    keepEarlyOutput: !!(vm.tty || vm.stdin),
  });
  writeFileSync(join(dir, SHIM_FILES.args), args, { mode: 0o600 });
}

/** A shim process and its fd 3: the ready pipe (a socket pair), also how a spare is given its DIR. */
interface ShimProcess {
  child: ChildProcess;
  fd3: Socket;
  ended: ShimProcessEnd;
}

function spawnShimProcess(arg: string, stdio: 'ignore' | number): ShimProcess {
  const child = spawn(findShimBinary(), [arg], {
    // A spare is no container's process until it has its DIR: its command line does not say hypr-shim.
    ...(arg === '-' ? { argv0: 'hypr-spare' } : {}),
    detached: true,
    stdio: ['ignore', stdio, stdio, 'pipe'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...pickHyprEnv() },
  });
  child.unref();
  child.on('error', () => {});
  const ended: ShimProcessEnd = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  return { child, fd3: child.stdio[3] as Socket, ended };
}

/** How long after a start that took the spare shim the next one is made. */
const SPARE_SHIM_DELAY_MS = 250;
/** The spare shim (`hypr-shim -`, waiting for its DIR), when `startShim` was asked to keep one. */
let spareShim: ShimProcess | undefined;
let spareTimer: NodeJS.Timeout | undefined;

/**
 * Makes the next spare shim a moment after a start, off that start's path: the fork of this
 * process is what it saves the next start. The spare holds nothing open here (unref'd) and
 * ends when this process does (the end of its fd 3).
 */
function refillSpareShim(): void {
  if (spareShim || spareTimer) return;
  spareTimer = setTimeout(() => {
    spareTimer = undefined;
    if (spareShim) return;
    try {
      const s = spawnShimProcess('-', 'ignore');
      s.fd3.unref();
      s.fd3.on('error', () => {});
      spareShim = s;
      // A spare that ended (killed, or the binary is gone) is not handed out.
      void s.ended.then(() => {
        if (spareShim === s) spareShim = undefined;
      });
    } catch {
      /* the next start spawns its shim itself */
    }
  }, SPARE_SHIM_DELAY_MS);
  spareTimer.unref();
}

/** The spare shim, told its DIR (it becomes `hypr-shim DIR`), or undefined when there is none. */
function takeSpareShim(dir: string): ShimProcess | undefined {
  const s = spareShim;
  spareShim = undefined;
  if (!s || s.child.exitCode !== null || s.child.signalCode !== null || s.fd3.destroyed) return undefined;
  s.fd3.ref();
  s.fd3.write(`${dir}\n`);
  return s;
}

/**
 * Spawns the shim of `dir`, detached (or hands `dir` to the spare shim, with `spare`), and
 * resolves once it listens (it says `ready` on fd 3), or false when it ended before that (its
 * exit.json and shim.log say why). `ended` settles when the shim process does: this process is
 * its parent and sees whether it exited or was killed.
 */
function spawnShim(
  dir: string,
  spare: boolean,
): Promise<{ pid: number | undefined; listening: boolean; ended: ShimProcessEnd }> {
  let shim = spare ? takeSpareShim(dir) : undefined;
  if (spare) refillSpareShim();
  if (!shim) {
    const logFd = openSync(join(dir, SHIM_FILES.shimLog), 'a', 0o600);
    try {
      shim = spawnShimProcess(dir, logFd);
    } finally {
      closeSync(logFd);
    }
  }
  const { child, fd3: ready, ended } = shim;
  const started = new Promise<{ pid: number | undefined; listening: boolean; ended: ShimProcessEnd }>((done) => {
    let said = '';
    const finish = (listening: boolean) => {
      ready.destroy();
      done({ pid: child.pid, listening, ended });
    };
    ready.on('data', (b: Buffer) => {
      said += b.toString();
      if (said.includes('ready\n')) finish(true);
    });
    ready.on('close', () => finish(said.includes('ready\n')));
    ready.on('error', () => finish(false));
    child.once('error', () => finish(false));
  });
  if (!spare) return started;
  // A spare that ended before it became this shim (it writes state.json first thing) did nothing
  // here: start one the usual way.
  return started.then((r) => (r.listening || existsSync(join(dir, SHIM_FILES.state)) ? r : spawnShim(dir, false)));
}

function startFailure(dir: string, exit: ShimExit | undefined): HyprError {
  let log = '';
  try {
    log = readFileSync(join(dir, SHIM_FILES.shimLog), 'utf8').trim().split('\n').slice(-5).join('\n');
  } catch {
    /* no log */
  }
  return new HyprError(
    'SHIM_FAILED',
    `the VM could not start: ${exit?.error ?? exit?.guestError ?? (log || 'the shim exited')}`,
  );
}

/**
 * Waits until the program runs (the client is returned), the VM ends first (a program that ended
 * cleanly gives a finished client; a failure throws SHIM_FAILED), or the start times out.
 */
async function awaitRunning(c: ShimConnection, dir: string, timeoutMs: number): Promise<ShimClient> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((r) => {
    timer = setTimeout(() => r('timeout'), timeoutMs);
  });
  const up = await Promise.race([c.running, timedOut]).finally(() => clearTimeout(timer));
  if (up === true) return c;
  if (up === 'timeout') {
    c.close();
    throw new HyprError(
      'SHIM_TIMEOUT',
      `the VM in ${dir} did not start its program within ${Math.round(timeoutMs / 1000)} s`,
      'the host may be overloaded; see shim.log in that directory',
    );
  }
  const exit = await c.wait();
  // A program can finish at once (a quick `true`): that is an exit, not a failure.
  if (!exit.error) return c;
  throw startFailure(dir, exit);
}

/**
 * Starts a shim for one VM and connects to it; resolves once the program runs. A VM that ends
 * before that with an error (a kernel panic at boot, a hypervisor failure) fails the start with
 * its reason, and nothing of it is left running.
 */
export async function startShim(opts: {
  dir: string;
  vm: ShimVmConfig;
  timeoutMs?: number;
  /** Where a writable disk made ahead of time waits for the next container (see createWritableDisk). */
  spareDir?: string;
  /**
   * Keep a spare shim process for the next start (a daemon that starts many): this start takes
   * the spare made after the previous one, when there is one, instead of forking this process.
   */
  spareShim?: boolean;
}): Promise<ShimClient> {
  // Absolute: the shim and the hypervisor carry it on their command lines, where findShimProcesses looks.
  const dir = resolve(opts.dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  await prepareShim(dir, opts.vm, opts.spareDir);
  const shim = await spawnShim(dir, !!opts.spareShim);
  try {
    const c = shim.listening ? await connectShim(dir, { processEnd: shim.ended }) : undefined;
    if (!c) throw startFailure(dir, readShimExit(dir));
    return await awaitRunning(c, dir, opts.timeoutMs ?? SHIM_START_TIMEOUT_MS);
  } catch (e) {
    // Nothing may outlive a shim that never came up: its VM goes too.
    await endShimProcesses(dir, { recorded: [{ pid: shim.pid ?? 0 }, ...recordedShimProcesses(dir)] });
    throw e;
  }
}

/**
 * After a daemon restart: the shim of `dir` if one is alive, once its program runs (hyprd may have
 * been killed while the VM booted). Undefined when no shim runs there, or the one that did ended
 * meanwhile (its exit.json says how).
 */
export async function adoptShim(dir: string, opts: { timeoutMs?: number } = {}): Promise<ShimClient | undefined> {
  const abs = resolve(dir);
  const c = await connectShim(abs).catch(() => undefined);
  if (!c) return undefined;
  try {
    const client = await awaitRunning(c, abs, opts.timeoutMs ?? SHIM_START_TIMEOUT_MS);
    if (!readShimExit(abs)) return client;
    client.close(); // it ended while we waited: the caller records the exit
    return undefined;
  } catch {
    await endShimProcesses(abs, { recorded: recordedShimProcesses(abs) });
    return undefined;
  }
}

function pickHyprEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('HYPR_')) env[k] = v;
  return env;
}

/**
 * Connects to a live shim (after a daemon restart, say). Undefined when no shim is there. With
 * `processEnd` (the caller started the shim), the client can tell an exit from a kill.
 */
export async function connectShim(
  dir: string,
  o: { processEnd?: ShimProcessEnd } = {},
): Promise<ShimConnection | undefined> {
  const state = readShimState(dir);
  if (!state || !isAlive(state.pid) || !existsSync(join(dir, SHIM_FILES.socket))) return undefined;
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect(join(dir, SHIM_FILES.socket));
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
  socket.on('error', () => {});
  return shimConnection(dir, state, socket, o);
}
