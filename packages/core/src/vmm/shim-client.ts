/**
 * A client on a shim's socket (frames both ways, shim/PROTOCOL.md): the container's output to
 * attached handlers, exec sessions multiplexed by id, stop and signals through Kestrel's control
 * channel, and the exit as the last frame. Pause, resume and statistics go to QEMU's QMP socket
 * directly, one connection per request, so clients never block each other.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { HyprError } from '../errors.js';
import { type Frame, FrameReader, encodeExecOpen, encodeFrame, signalCommand } from '../guest/index.js';
import { execEvent } from './exec-channel.js';
import { type ExecOptions, type ExecSession, type ExecSessionHandle, createExecSession } from './exec-session.js';
import { type ProcessTable, copyFromGuest, copyToGuest, listProcesses } from './guest-tools.js';
import { FROM_SHIM, SHIM_FILES, type ShimExit, type ShimState, type ShimVmConfig, TO_SHIM } from './shim-protocol.js';
import { type VmControl, type VmStats, createQmpControl } from './vm-control.js';

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
  exec(opts: ExecOptions): ExecSession;
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
  /** Resolves when the connection has ended: after the exit frame, the shim closes it as it ends. */
  closed(): Promise<void>;
  /**
   * Resolves true once the shim has exited by itself (an exit status, not a signal): it has then
   * reaped the hypervisor and its helpers, so nothing of the VM runs. False when it was killed, or
   * when this client did not start it (after a daemon restart) and cannot see how it ended.
   */
  endedByItself(): Promise<boolean>;
}

/** A connected client, and when the program runs: true once it does, false when the VM ended first. */
export interface ShimConnection extends ShimClient {
  readonly running: Promise<boolean>;
}

type OutputHandlers = { onStdout?: (b: Buffer) => void; onStderr?: (b: Buffer) => void };

/** The container's QMP socket, with the VM size its memory statistics need (from config.json). */
function qmpControl(dir: string): VmControl {
  let memoryMiB = 0;
  try {
    memoryMiB = (JSON.parse(readFileSync(join(dir, SHIM_FILES.config), 'utf8')) as ShimVmConfig).memoryMiB ?? 0;
  } catch {
    /* stats then report no limit */
  }
  return createQmpControl(join(dir, SHIM_FILES.vm, 'qmp.sock'), memoryMiB, { perRequest: true });
}

/** Exec sessions of one connection: the client's own ids (0–255), mapped to the guest's by the shim. */
function execSessions(send: (type: string, id: number, payload?: Buffer | string) => void) {
  const sessions = new Map<number, ExecSessionHandle>();
  let next = 0;
  return {
    open(o: ExecOptions): ExecSession {
      let id = next;
      while (sessions.has(id)) {
        id = (id + 1) & 0xff;
        if (id === next) throw new HyprError('EXEC_TOO_MANY', 'at most 256 exec sessions can run on one connection');
      }
      next = (id + 1) & 0xff;
      const handle = createExecSession(o, {
        write: (d) => send('I', id, d),
        end: () => send('C', id),
        resize: (rows, cols) => send('R', id, `${rows}x${cols}`),
        signal: (sig) => send('S', id, sig.replace(/^SIG/, '')),
      });
      sessions.set(id, handle);
      send('O', id, encodeExecOpen({ argv: o.argv, env: o.env ?? [], workdir: o.workdir, user: o.user, tty: o.tty }));
      return handle.session;
    },
    deliver(f: Frame) {
      const s = sessions.get(f.session);
      const event = execEvent(f);
      if (!s || !event) return;
      s.deliver(event);
      if (s.ended) sessions.delete(f.session);
    },
    /** The container ended: its sessions end with it. */
    endAll(exitCode: number) {
      for (const s of sessions.values()) s.deliver({ kind: 'exit', exitCode });
      sessions.clear();
    },
  };
}

/** How the shim process ended, when the caller started it and so can see (its exit status or signal). */
export type ShimProcessEnd = Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

export function shimConnection(
  dir: string,
  initial: ShimState,
  socket: Socket,
  o: { processEnd?: ShimProcessEnd } = {},
): ShimConnection {
  let state = initial;
  let exitInfo: ShimExit | undefined;
  let closedByUs = false;
  const waiters: ((e: ShimExit) => void)[] = [];
  const attachments = new Set<OutputHandlers>();
  let markRunning: (up: boolean) => void = () => {};
  const running = new Promise<boolean>((r) => {
    markRunning = r;
  });
  const send = (type: string, id: number, payload?: Buffer | string) => {
    if (socket.destroyed) return;
    for (const f of encodeFrame(type, id, payload)) socket.write(f);
  };
  const execs = execSessions(send);
  const control = qmpControl(dir);
  const settle = (e: ShimExit) => {
    exitInfo ??= e;
    markRunning(false);
    for (const w of waiters.splice(0)) w(exitInfo);
    execs.endAll(137);
  };
  const onFrame = (f: Frame) => {
    switch (f.type) {
      case FROM_SHIM.up:
        // The shim wrote the hypervisor's pid before the program could start: read it now.
        state = readShimState(dir) ?? state;
        return markRunning(true);
      case FROM_SHIM.stdout:
      case FROM_SHIM.stderr:
        for (const a of attachments) (f.type === FROM_SHIM.stderr ? a.onStderr : a.onStdout)?.(Buffer.from(f.payload));
        return;
      case FROM_SHIM.exit:
        try {
          return settle(JSON.parse(f.payload.toString('utf8')) as ShimExit);
        } catch {
          return;
        }
      default:
        return execs.deliver(f);
    }
  };
  const reader = new FrameReader(onFrame);
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  socket.on('data', (b: Buffer) => reader.push(b));
  socket.on('close', () => {
    // The shim writes exit.json before it closes; if it died instead, there is no status to give.
    if (exitInfo) return;
    const fromFile = readShimExit(dir);
    if (fromFile) settle(fromFile);
    else if (!closedByUs)
      settle({ exitCode: 255, error: 'the shim ended without an exit status', finishedAt: new Date().toISOString() });
    else markRunning(false);
  });
  const wait = () => (exitInfo ? Promise.resolve(exitInfo) : new Promise<ShimExit>((r) => waiters.push(r)));
  const live = <T>(work: () => Promise<T>): Promise<T> =>
    exitInfo ? Promise.reject(new HyprError('CONTAINER_NOT_RUNNING', 'the container has exited')) : work();
  // A frozen Kestrel cannot take a stop or a signal: thaw the VM first, as docker does.
  const thaw = async () => {
    if (await control.isPaused().catch(() => false)) await control.resume().catch(() => {});
  };
  const exec = (o: ExecOptions): ExecSession => {
    if (exitInfo) {
      const ended = createExecSession(o, { write() {}, end() {}, resize() {}, signal() {} });
      ended.deliver({ kind: 'exit', exitCode: 137 });
      return ended.session;
    }
    return execs.open(o);
  };
  return {
    dir,
    get state() {
      return state;
    },
    running,
    wait,
    exec,
    pause: () => live(() => control.pause()),
    resume: () => live(() => control.resume()),
    isPaused: () => live(() => control.isPaused()),
    stats: () => live(() => control.stats()),
    top: () => listProcesses(exec),
    copyFrom: (path) => copyFromGuest(exec, path),
    copyTo: (target, tar) => copyToGuest(exec, target, tar),
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (exitInfo) return exitInfo;
      await thaw();
      send(TO_SHIM.stop, 0, `${signal} ${Math.max(0, Math.round(graceMs))}`);
      return wait();
    },
    async kill(signal = 'SIGKILL') {
      if (exitInfo) return;
      await thaw();
      send(TO_SHIM.control, 0, signalCommand(signal));
    },
    attach(handlers) {
      attachments.add(handlers);
      send(TO_SHIM.attach, 0);
      return {
        write: (d) => send(TO_SHIM.stdin, 0, typeof d === 'string' ? Buffer.from(d) : d),
        end: () => send(TO_SHIM.closeStdin, 0),
        resize: (rows, cols) => send(TO_SHIM.control, 0, `RESIZE ${rows | 0} ${cols | 0}\n`),
        detach: () => {
          attachments.delete(handlers);
        },
      };
    },
    close() {
      closedByUs = true;
      control.close();
      socket.destroy();
    },
    closed: () => closed,
    endedByItself: () =>
      o.processEnd
        ? o.processEnd.then(
            (e) => e.code !== null,
            () => false,
          )
        : Promise.resolve(false),
  };
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
