import { spawn } from 'node:child_process';
/**
 * The per-container shim, host side. A shim is a small detached process (packages/core/src/cli/
 * hypr-shim.ts) that owns one VM: it boots it, appends its output to a docker json-file log, takes
 * stop/kill requests on a Unix socket, and writes the exit status to a file when the VM ends. It
 * lives in its own session, so a `kill -9` of hyprd leaves the VM running; a new hyprd re-adopts
 * it with connectShim. The files and the socket protocol are in shim-protocol.ts.
 */
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { type Socket, connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { type ErrorCode, HyprError, isErrorCode } from '../errors.js';
import { createLineSplitter } from '../lines.js';
import { type ExecOptions, type ExecSession, type ExecSessionHandle, createExecSession } from './exec-session.js';
import { type ProcessTable, copyFromGuest, copyToGuest, listProcesses } from './guest-tools.js';
import { type RecordedProcess, endShimProcesses, findShimProcesses } from './shim-processes.js';
import {
  SHIM_FILES,
  type ShimEvent,
  type ShimExit,
  type ShimRequest,
  type ShimState,
  type ShimVmConfig,
  encodeShimLine,
  fromBase64,
  parseShimLine,
  toBase64,
} from './shim-protocol.js';
import type { VmStats } from './vm-control.js';

export { SHIM_FILES, type ShimExit, type ShimState, type ShimVmConfig } from './shim-protocol.js';
export {
  type RecordedProcess,
  endShimProcesses,
  findShimProcesses,
  processStartTicks,
} from './shim-processes.js';

/** An exec through the shim takes and gives what an exec into a VM does. */
export type ShimExecOptions = ExecOptions;
export type ShimExecSession = ExecSession;

export interface ShimAttachment {
  write(data: Buffer | string): void;
  /** Closes the program's stdin. */
  end(): void;
  resize(rows: number, cols: number): void;
  /** Stops receiving output; the container keeps running. */
  detach(): void;
}

export interface ShimClient {
  readonly dir: string;
  readonly state: ShimState;
  /** Sends the stop signal through Kestrel, SIGKILL after graceMs; resolves when the VM has ended. */
  stop(signal?: string, graceMs?: number): Promise<ShimExit>;
  /** Sends a signal to the program. */
  kill(signal?: string): Promise<void>;
  /** Resolves when the VM has ended. */
  wait(): Promise<ShimExit>;
  /** Runs another program in the container (docker exec). */
  exec(opts: ShimExecOptions): ShimExecSession;
  /** Streams the program's output as it arrives (from now on) and, with stdin, feeds its input. */
  attach(handlers: { onStdout?: (b: Buffer) => void; onStderr?: (b: Buffer) => void }): ShimAttachment;
  /** Freezes the whole VM (`hypr pause`); stop and kill resume it first. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  isPaused(): Promise<boolean>;
  /** One sample of the VM's block I/O and guest memory (`hypr stats`). */
  stats(): Promise<VmStats>;
  /** The container's processes, as `ps -ef` shows them (`hypr top`). */
  top(): Promise<ProcessTable>;
  /** A tar of PATH in the running container (`hypr cp CONTAINER:PATH -`). */
  copyFrom(path: string): Readable;
  /** Unpacks a tar into DIR in the running container (`hypr cp - CONTAINER:DIR`). */
  copyTo(dir: string, tar: Readable | Buffer): Promise<void>;
  /** Closes this connection; the shim and its VM keep running. */
  close(): void;
}

function shimScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '../cli/hypr-shim.js'), join(here, '../../dist/cli/hypr-shim.js')];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new HyprError('SHIM_MISSING', 'hypr-shim is not built', 'run pnpm build');
  return found;
}

export function readShimExit(dir: string): ShimExit | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, SHIM_FILES.exit), 'utf8')) as ShimExit;
  } catch {
    return undefined;
  }
}

export function readShimState(dir: string): ShimState | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, SHIM_FILES.state), 'utf8')) as ShimState;
  } catch {
    return undefined;
  }
}

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

/**
 * Starts a shim for one VM and connects to it once the program runs. A VM that ends before that
 * with an error (a kernel panic at boot, a hypervisor failure) fails the start with its reason.
 */
export async function startShim(opts: { dir: string; vm: ShimVmConfig; timeoutMs?: number }): Promise<ShimClient> {
  // Absolute: the shim and the hypervisor carry it on their command lines, where findShimProcesses looks.
  const dir = resolve(opts.dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await rm(join(dir, SHIM_FILES.exit), { force: true });
  await rm(join(dir, SHIM_FILES.socket), { force: true });
  await rm(join(dir, SHIM_FILES.state), { force: true });
  await writeFile(join(dir, SHIM_FILES.config), JSON.stringify(opts.vm), { mode: 0o600 });
  const logFd = openSync(join(dir, SHIM_FILES.shimLog), 'a', 0o600);
  const child = spawn(process.execPath, [shimScript(), dir], {
    detached: true,
    stdio: ['ignore', logFd, logFd],
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...pickHyprEnv() },
  });
  closeSync(logFd);
  child.unref();
  let exitedEarly = false;
  child.once('exit', () => {
    exitedEarly = true;
  });
  try {
    return await awaitShim(dir, { ended: () => exitedEarly, timeoutMs: opts.timeoutMs ?? SHIM_START_TIMEOUT_MS });
  } catch (e) {
    // Nothing may outlive a shim that never came up: its VM goes too.
    await endShimProcesses(dir, { recorded: [{ pid: child.pid ?? 0 }, ...recordedShimProcesses(dir)] });
    throw e;
  }
}

/**
 * Connects to the shim of `dir` once it serves: the program runs. Throws when the shim ends first
 * with an error (SHIM_FAILED) or does not come up in time (SHIM_TIMEOUT); a program that already
 * ended cleanly (a quick `true`) gives a finished client.
 */
async function awaitShim(dir: string, o: { ended: () => boolean; timeoutMs: number }): Promise<ShimClient> {
  const deadline = Date.now() + o.timeoutMs;
  while (Date.now() < deadline) {
    const client = await connectShim(dir).catch(() => undefined);
    if (client) return client;
    if (o.ended() || readShimExit(dir)) {
      const exit = readShimExit(dir);
      // A program can finish before the first connection (a quick `true`): that is an exit, not a failure.
      if (exit && !exit.error) return finishedShim(dir, exit);
      const log = readFileSync(join(dir, SHIM_FILES.shimLog), 'utf8').trim().split('\n').slice(-5).join('\n');
      throw new HyprError(
        'SHIM_FAILED',
        `the VM could not start: ${exit?.error ?? exit?.guestError ?? (log || 'the shim exited')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new HyprError(
    'SHIM_TIMEOUT',
    `the VM in ${dir} did not start its program within ${Math.round(o.timeoutMs / 1000)} s`,
    'the host may be overloaded; see shim.log in that directory',
  );
}

/**
 * After a daemon restart: the shim of `dir` if one is alive — connected at once when it serves,
 * awaited when it is still booting its VM (hyprd was killed during the start). Undefined when no
 * shim runs there, or the one that did ended meanwhile (its exit.json says how).
 */
export async function adoptShim(dir: string, opts: { timeoutMs?: number } = {}): Promise<ShimClient | undefined> {
  const abs = resolve(dir);
  const client = await connectShim(abs).catch(() => undefined);
  if (client) return client;
  const shimPid = readShimState(abs)?.pid;
  const booting = () => findShimProcesses(abs, recordedShimProcesses(abs)).includes(shimPid ?? -1);
  if (!shimPid || !booting()) return undefined;
  try {
    const c = await awaitShim(abs, { ended: () => !booting(), timeoutMs: opts.timeoutMs ?? SHIM_START_TIMEOUT_MS });
    if (!readShimExit(abs)) return c;
    c.close(); // it ended while we waited: the caller records the exit
    return undefined;
  } catch {
    await endShimProcesses(abs, { recorded: recordedShimProcesses(abs) });
    return undefined;
  }
}

/** A client for a shim whose VM has already ended: every request is answered with that exit. */
function finishedShim(dir: string, exit: ShimExit): ShimClient {
  const state = readShimState(dir) ?? { pid: 0, startedAt: exit.finishedAt };
  const ended = (): never => {
    throw new HyprError('CONTAINER_NOT_RUNNING', 'the container has already exited');
  };
  return {
    dir,
    state,
    wait: async () => exit,
    stop: async () => exit,
    kill: async () => {},
    exec: ended,
    attach: () => ({ write() {}, end() {}, resize() {}, detach() {} }),
    pause: async () => ended(),
    resume: async () => ended(),
    isPaused: async () => false,
    stats: async () => ended(),
    top: async () => ended(),
    copyFrom: ended,
    copyTo: async () => ended(),
    close() {},
  };
}

function pickHyprEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('HYPR_')) env[k] = v;
  return env;
}

/** Connects to a running shim (after a daemon restart, say). Undefined when no shim is there. */
export async function connectShim(dir: string): Promise<ShimClient | undefined> {
  const state = readShimState(dir);
  if (!state || !isAlive(state.pid) || !existsSync(join(dir, SHIM_FILES.socket))) return undefined;
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect(join(dir, SHIM_FILES.socket));
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
  socket.on('error', () => {});
  return shimConnection(dir, state, socket);
}

type OutputHandlers = { onStdout?: (b: Buffer) => void; onStderr?: (b: Buffer) => void };

/** A client on a connected shim socket: requests out, events routed to their waiters. */
function shimConnection(dir: string, state: ShimState, socket: Socket): ShimClient {
  let exitInfo: ShimExit | undefined;
  let closedByUs = false;
  const waiters: ((e: ShimExit) => void)[] = [];
  const execs = new Map<string, ExecSessionHandle>();
  const requests = new Map<string, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextRequest = 0;
  const attachments = new Set<OutputHandlers>();
  let nextExec = 0;
  const settle = (e: ShimExit) => {
    exitInfo ??= e;
    for (const w of waiters.splice(0)) w(exitInfo);
    // The container ended: its exec sessions end with it.
    for (const [id, s] of execs) {
      execs.delete(id);
      s.deliver({ kind: 'exit', exitCode: 137 });
    }
    for (const r of requests.values()) r.reject(new HyprError('CONTAINER_NOT_RUNNING', 'the container has exited'));
    requests.clear();
  };
  const onEvent = (msg: ShimEvent) => {
    if (msg.event === 'exit') return settle(msg);
    if (msg.event === 'reply') {
      const r = requests.get(msg.id);
      requests.delete(msg.id);
      if (msg.ok) r?.resolve(msg.result);
      else
        r?.reject(
          new HyprError(isErrorCode(msg.code ?? '') ? (msg.code as ErrorCode) : 'VM_HYPERVISOR_FAILED', msg.error),
        );
      return;
    }
    if (msg.event === 'out') {
      for (const a of attachments) (msg.stream === 'stderr' ? a.onStderr : a.onStdout)?.(fromBase64(msg.data));
      return;
    }
    const s = execs.get(msg.id);
    if (!s) return;
    if (msg.event === 'exec-started') s.deliver({ kind: 'started', pid: msg.pid ?? 0 });
    else if (msg.event === 'exec-out') s.deliver({ kind: 'output', stream: msg.stream, data: fromBase64(msg.data) });
    else if (msg.event === 'exec-exit') {
      execs.delete(msg.id);
      s.deliver({ kind: 'exit', exitCode: msg.exitCode ?? 255, ...(msg.error ? { error: msg.error } : {}) });
    }
  };
  socket.on(
    'data',
    createLineSplitter((line) => {
      const msg = parseShimLine<ShimEvent>(line);
      if (msg) onEvent(msg);
    }),
  );
  socket.on('close', () => {
    // The shim writes exit.json before it closes; if it died instead, there is no status to give.
    if (exitInfo) return;
    const fromFile = readShimExit(dir);
    if (fromFile) settle(fromFile);
    else if (!closedByUs)
      settle({ exitCode: 255, error: 'the shim ended without an exit status', finishedAt: new Date().toISOString() });
  });
  const send = (msg: ShimRequest) => {
    if (!socket.destroyed) socket.write(encodeShimLine(msg));
  };
  const wait = () => (exitInfo ? Promise.resolve(exitInfo) : new Promise<ShimExit>((r) => waiters.push(r)));
  const request = <T>(op: 'pause' | 'resume' | 'is-paused' | 'stats'): Promise<T> => {
    if (exitInfo) return Promise.reject(new HyprError('CONTAINER_NOT_RUNNING', 'the container has exited'));
    const id = `r${process.pid}-${nextRequest++}`;
    return new Promise<T>((resolve, reject) => {
      requests.set(id, { resolve: resolve as (v: unknown) => void, reject });
      send({ op, id });
    });
  };
  const exec = (o: ExecOptions): ExecSession => {
    const id = `e${process.pid}-${nextExec++}`;
    const handle = createExecSession(o, {
      write: (d) => send({ op: 'exec-stdin', id, data: toBase64(d) }),
      end: () => send({ op: 'exec-close-stdin', id }),
      resize: (rows, cols) => send({ op: 'exec-resize', id, rows, cols }),
      signal: (signal) => send({ op: 'exec-signal', id, signal }),
    });
    if (exitInfo) {
      handle.deliver({ kind: 'exit', exitCode: 137 });
      return handle.session;
    }
    execs.set(id, handle);
    send({ op: 'exec', id, argv: o.argv, env: o.env ?? [], workdir: o.workdir, user: o.user, tty: o.tty });
    return handle.session;
  };
  return {
    pause: () => request<void>('pause'),
    resume: () => request<void>('resume'),
    isPaused: () => request<boolean>('is-paused'),
    stats: () => request<VmStats>('stats'),
    top: () => listProcesses(exec),
    copyFrom: (path) => copyFromGuest(exec, path),
    copyTo: (dir, tar) => copyToGuest(exec, dir, tar),
    dir,
    state,
    wait,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      send({ op: 'stop', signal, graceMs });
      return wait();
    },
    async kill(signal = 'SIGKILL') {
      send({ op: 'kill', signal });
    },
    exec,
    attach(handlers) {
      attachments.add(handlers);
      send({ op: 'attach' });
      return {
        write: (d) => send({ op: 'stdin', data: toBase64(d) }),
        end: () => send({ op: 'close-stdin' }),
        resize: (rows, cols) => send({ op: 'resize', rows, cols }),
        detach: () => {
          attachments.delete(handlers);
        },
      };
    },
    close() {
      closedByUs = true;
      socket.destroy();
    },
  };
}
