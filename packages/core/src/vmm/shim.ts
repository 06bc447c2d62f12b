import { spawn } from 'node:child_process';
/**
 * The per-container shim, host side. A shim is a small detached process (packages/core/src/cli/
 * hypr-shim.ts) that owns one VM: it boots it, appends its output to a docker json-file log, takes
 * stop/kill requests on a Unix socket, and writes the exit status to a file when the VM ends. It
 * lives in its own session, so a `kill -9` of hyprd leaves the VM running; a new hyprd re-adopts
 * it with connectShim. The shim's directory (one per container) holds:
 *
 *   config.json     the ShimVmConfig it runs           shim.sock   requests and events (JSON lines)
 *   state.json      {pid, vmPid, startedAt}            shim.log    the shim's own diagnostics
 *   container.log   {"log","stream","time"} per line   exit.json   ShimExit, written atomically at the end
 */
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { type Socket, connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HyprError } from '../errors.js';
import { createLineSplitter } from '../lines.js';
import type { ExecOptions, ExecSession, GuestVmOptions } from './guest-vm.js';

/** What the shim boots: the JSON-serialisable part of GuestVmOptions. */
export type ShimVmConfig = Pick<
  GuestVmOptions,
  | 'rootfs'
  | 'argv'
  | 'workdir'
  | 'user'
  | 'hostname'
  | 'cpus'
  | 'memoryMiB'
  | 'stopGraceMs'
  | 'mounts'
  | 'stdin'
  | 'tty'
  | 'nics'
  | 'dns'
  | 'dnsSearch'
  | 'hosts'
  | 'netns'
> & {
  env: string[];
  /** Persistent writable layer, created on first start (sparse ext4 of sizeMiB) and reused after. */
  writableDisk?: { path: string; sizeMiB?: number };
};

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

export interface ShimExit {
  /** The program's exit code (128+N when killed by signal N); 255 when the VM itself failed. */
  exitCode: number;
  /** Kestrel could not run the program (missing binary, unknown user …). */
  guestError?: string;
  /** The VM failed (hypervisor error, kernel panic …). */
  error?: string;
  finishedAt: string;
}

export interface ShimState {
  pid: number;
  vmPid?: number;
  startedAt: string;
}

export const SHIM_FILES = {
  config: 'config.json',
  socket: 'shim.sock',
  state: 'state.json',
  exit: 'exit.json',
  log: 'container.log',
  shimLog: 'shim.log',
} as const;

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

/** Starts a shim for one VM and connects to it once the VM is booting. */
export async function startShim(opts: { dir: string; vm: ShimVmConfig; timeoutMs?: number }): Promise<ShimClient> {
  const { dir } = opts;
  await mkdir(dir, { recursive: true });
  await rm(join(dir, SHIM_FILES.exit), { force: true });
  await rm(join(dir, SHIM_FILES.socket), { force: true });
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
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  while (Date.now() < deadline) {
    const client = await connectShim(dir).catch(() => undefined);
    if (client) return client;
    if (exitedEarly || readShimExit(dir)) {
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
  // Nothing may outlive a shim that never came up: its VM goes too.
  const vmPid = readShimState(dir)?.vmPid;
  if (vmPid && isAlive(vmPid)) process.kill(vmPid, 'SIGKILL');
  child.kill('SIGKILL');
  throw new HyprError('SHIM_TIMEOUT', `the shim in ${dir} did not come up`);
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
  let exitInfo: ShimExit | undefined;
  const waiters: ((e: ShimExit) => void)[] = [];
  const settle = (e: ShimExit) => {
    exitInfo ??= e;
    for (const w of waiters.splice(0)) w(exitInfo);
  };
  socket.on(
    'data',
    createLineSplitter((line) => {
      let msg: { event?: string; id?: string; stream?: string; data?: string; pid?: number; error?: string } & ShimExit;
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      if (msg.event === 'exit') settle(msg);
      else if (msg.event === 'out')
        for (const a of attachments)
          (msg.stream === 'stderr' ? a.onStderr : a.onStdout)?.(Buffer.from(msg.data ?? '', 'base64'));
      else if (msg.id && execs.has(msg.id)) execs.get(msg.id)?.(msg);
    }),
  );
  socket.on('close', () => {
    // The shim writes exit.json before it closes; if it died instead, there is no status to give.
    if (exitInfo) return;
    const fromFile = readShimExit(dir);
    if (fromFile) settle(fromFile);
    else if (closedByUs) return;
    else
      settle({ exitCode: 255, error: 'the shim ended without an exit status', finishedAt: new Date().toISOString() });
  });
  let closedByUs = false;
  const send = (msg: object) => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(msg)}\n`);
  };
  type ExecEvent = { event?: string; stream?: string; data?: string; pid?: number; exitCode?: number; error?: string };
  const execs = new Map<string, (e: ExecEvent) => void>();
  const attachments = new Set<{ onStdout?: (b: Buffer) => void; onStderr?: (b: Buffer) => void }>();
  let nextExec = 0;
  const wait = () => (exitInfo ? Promise.resolve(exitInfo) : new Promise<ShimExit>((r) => waiters.push(r)));
  return {
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
    exec(o) {
      const id = `e${process.pid}-${nextExec++}`;
      let startedResolve!: (pid: number) => void;
      let startedReject!: (e: Error) => void;
      const started = new Promise<number>((res, rej) => {
        startedResolve = res;
        startedReject = rej;
      });
      started.catch(() => {});
      let done!: (r: { exitCode: number; error?: string }) => void;
      const finished = new Promise<{ exitCode: number; error?: string }>((r) => {
        done = r;
      });
      execs.set(id, (e) => {
        if (e.event === 'exec-started') startedResolve(e.pid ?? 0);
        else if (e.event === 'exec-out')
          (e.stream === 'stderr' ? o.onStderr : o.onStdout)?.(Buffer.from(e.data ?? '', 'base64'));
        else if (e.event === 'exec-exit') {
          execs.delete(id);
          startedReject(new HyprError('EXEC_FAILED', e.error ?? `exec ended with ${e.exitCode}`));
          done({ exitCode: e.exitCode ?? 255, ...(e.error ? { error: e.error } : {}) });
        }
      });
      void wait().then(() => {
        // The container ended: its exec sessions end with it.
        execs.get(id)?.({ event: 'exec-exit', exitCode: 137 });
      });
      send({ op: 'exec', id, argv: o.argv, env: o.env ?? [], workdir: o.workdir, user: o.user, tty: o.tty });
      const b64 = (d: Buffer | string) => (typeof d === 'string' ? Buffer.from(d) : d).toString('base64');
      return {
        started,
        write: (d) => send({ op: 'exec-stdin', id, data: b64(d) }),
        end: () => send({ op: 'exec-close-stdin', id }),
        resize: (rows, cols) => send({ op: 'exec-resize', id, rows, cols }),
        signal: (signal) => send({ op: 'exec-signal', id, signal }),
        wait: () => finished,
      };
    },
    attach(handlers) {
      attachments.add(handlers);
      send({ op: 'attach' });
      return {
        write: (d) => send({ op: 'stdin', data: (typeof d === 'string' ? Buffer.from(d) : d).toString('base64') }),
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
