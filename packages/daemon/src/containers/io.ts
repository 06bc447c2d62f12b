/**
 * A container's io: wait for its exit, read and follow its log, attach to its output (and stdin).
 * Output is never missed: attach notes the end of the log before a start, and an exit waits for
 * attached readers to take the last output before --rm removes the log.
 */
import { join } from 'node:path';
import { HyprError } from '@hypr/core';
import { AsyncQueue } from '../async-queue.js';
import {
  type LogEntry,
  type LogStream,
  type ReadLogOptions,
  logSize,
  readContainerLog,
  rfc3339Nano,
} from './container-log.js';
import { type ContainerEvents, exitStatusOf } from './events.js';
import type { Live, RunningContainers } from './running.js';
import { LOG_FILE } from './runtime/runtime.js';
import { type ContainerStore, storedConfig } from './store.js';
import type { AttachIo, ContainerView, ExitStatus } from './types.js';

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface IoDeps {
  store: ContainerStore;
  events: ContainerEvents;
  running: RunningContainers;
  /** Starts the container (attach with `start`). */
  start(id: string): Promise<ContainerView>;
}

export interface AttachEvent {
  output?: LogEntry;
  exit?: ExitStatus;
  started?: string;
}

/** Live output chunks as log entries (raw bytes, no line split). */
export function liveOutput(q: AsyncQueue<LogEntry>): (stream: LogStream) => (b: Buffer) => void {
  return (stream) => (b) => q.push({ stream, log: '', bytes: b, time: rfc3339Nano() });
}

/** Feeds what an attached client sends (stdin, resizes, end of stdin, signals) to the program. */
export async function pumpInput(
  io: AttachIo,
  target: { write(d: Buffer): void; end(): void; resize(r: number, c: number): void; signal?(s: string): void },
): Promise<void> {
  try {
    for await (const m of io.input) {
      if (m.stdin && io.stdin) target.write(Buffer.from(m.stdin));
      else if (m.resize) target.resize(m.resize.rows, m.resize.cols);
      else if (m.closeStdin && io.stdin) target.end();
      else if (m.signal) target.signal?.(m.signal);
    }
  } catch {
    /* the client went away */
  }
}

export class ContainerIo {
  constructor(private readonly d: IoDeps) {}

  /** Resolves with the exit of the container: at once when it is not running (`not-running`). */
  async wait(text: string, condition: WaitCondition = 'not-running', signal?: AbortSignal): Promise<ExitStatus> {
    const { store, running, events } = this.d;
    const row = store.resolve(text);
    const isRunning =
      running.has(row.id) || row.state === 'running' || row.state === 'restarting' || !!running.pendingStart(row.id);
    if (condition === 'not-running' && !isRunning)
      return { exitCode: row.exitCode ?? 0, error: row.error ?? undefined };
    if (signal?.aborted) throw new HyprError('ABORTED', 'wait cancelled');
    return new Promise((resolve, reject) => {
      const done = (settle: () => void) => {
        off();
        signal?.removeEventListener('abort', onAbort);
        settle();
      };
      const onAbort = () => done(() => reject(new HyprError('ABORTED', 'wait cancelled')));
      const off =
        condition === 'removed'
          ? events.onRemoved(row.id, () => done(() => resolve({ exitCode: running.lastExitCode(row.id) ?? 0 })))
          : events.onExit('exit', row.id, (exit) => {
              if (condition === 'not-running' && store.get(row.id)?.state === 'restarting') return;
              done(() => resolve(exitStatusOf(exit)));
            });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  logs(text: string, opts: ReadLogOptions & { follow?: boolean; signal?: AbortSignal }): AsyncGenerator<LogEntry> {
    const { store } = this.d;
    const row = store.resolve(text);
    // Following ends once the container is no longer running.
    const until = opts.follow ? this.wait(row.id, 'not-running', opts.signal).catch(() => undefined) : undefined;
    return readContainerLog(join(store.dirOf(row), LOG_FILE), { ...opts, until });
  }

  /**
   * Output from now on, then the exit: what `run` (attached), `start -a` and `attach` show. With
   * `start`, the container is started once the reader is in place, so no early output is missed.
   * Containers made with -i or -t are attached live (raw bytes, stdin and terminal size from `io`);
   * others are followed through their log, which never misses a line.
   */
  async *attach(
    text: string,
    opts: { start?: boolean; signal?: AbortSignal; io?: AttachIo } = {},
  ): AsyncGenerator<AttachEvent> {
    const { store, running, events } = this.d;
    const row = store.resolve(text);
    const cfg = storedConfig(row);
    if (opts.io?.stdin && !cfg.create.openStdin)
      throw new HyprError(
        'ATTACH_STDIN_PRECONDITION',
        'the container was not created with -i: its stdin cannot be attached',
      );
    const path = join(store.dirOf(row), LOG_FILE);
    const fromOffset = await logSize(path);
    const ended = events.next('ended', row.id);
    const exit = events.next('exit', row.id);
    try {
      const drained = running.addDrain(row.id);
      try {
        if (opts.start) await this.d.start(row.id);
        else if (!running.has(row.id))
          throw new HyprError('CONTAINER_NOT_RUNNING', 'You cannot attach to a stopped container, start it first');
        const live = running.get(row.id);
        yield { started: row.id };
        const output =
          (cfg.create.tty || cfg.create.openStdin) && live?.handle.attach
            ? this.attachLive(live, ended.exit, opts)
            : readContainerLog(path, { fromOffset, follow: true, until: ended.exit, signal: opts.signal });
        for await (const e of output) yield { output: e };
      } finally {
        drained();
      }
      if (opts.signal?.aborted) return;
      yield { exit: await exit.exit };
    } finally {
      ended.cancel();
      exit.cancel();
    }
  }

  /** The program's stdio, live, until the VM ends. */
  private async *attachLive(
    live: Live,
    ended: Promise<unknown>,
    opts: { signal?: AbortSignal; io?: AttachIo },
  ): AsyncGenerator<LogEntry> {
    const q = new AsyncQueue<LogEntry>();
    const push = liveOutput(q);
    const attach = live.handle.attach;
    if (!attach) return;
    const a = attach.call(live.handle, { onStdout: push('stdout'), onStderr: push('stderr') });
    try {
      if (opts.io?.size) a.resize(opts.io.size.rows, opts.io.size.cols);
      if (opts.io) void pumpInput(opts.io, a);
      void ended.then(() => q.end());
      yield* q.drain(opts.signal);
    } finally {
      a.detach();
    }
  }
}
