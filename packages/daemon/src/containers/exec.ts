/**
 * docker exec: another program in a running container, through the runtime's exec; its output
 * streamed, its stdin and terminal fed from the client, its exit reported. `-d` answers once started.
 */
import { HyprError, type Logger } from '@hypr/core';
import { AsyncQueue } from '../async-queue.js';
import type { LogEntry } from './container-log.js';
import { type AttachEvent, liveOutput, pumpInput } from './io.js';
import type { RunningContainers } from './running.js';
import type { ExecSession } from './runtime/runtime.js';
import { type ContainerStore, storedConfig } from './store.js';
import type { AttachIo, ExitStatus } from './types.js';

export interface ExecRequest {
  argv: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  tty?: boolean;
  /** exec -d: answer once started. */
  detach?: boolean;
  io: AttachIo;
  signal?: AbortSignal;
}

export interface ExecDeps {
  store: ContainerStore;
  running: RunningContainers;
  runtimeName: string;
  logger: Logger;
}

/** Runs a program in the running container; yields its output, then its exit. */
export async function* execInContainer(
  d: ExecDeps,
  text: string,
  o: ExecRequest,
): AsyncGenerator<Omit<AttachEvent, 'started'>> {
  const row = d.store.resolve(text);
  const live = d.running.get(row.id);
  if (live && row.state === 'paused')
    throw new HyprError(
      'CONTAINER_IS_PAUSED',
      `Container ${row.id} is paused, unpause the container before exec`,
      `hypr unpause ${row.name}`,
    );
  if (!live || row.state !== 'running')
    throw new HyprError('CONTAINER_NOT_RUNNING', `Container ${row.id} is not running`);
  if (!live.handle.exec)
    throw new HyprError('EXEC_NOT_SUPPORTED', `exec is not supported by the ${d.runtimeName} runtime`);
  if (!o.argv.length) throw new HyprError('INVALID_ARGUMENT', 'no command given to exec');
  const cfg = storedConfig(row);
  const q = new AsyncQueue<LogEntry>();
  const push = liveOutput(q);
  const session = live.handle.exec({
    argv: o.argv,
    env: [...cfg.env, ...(o.env ?? [])],
    workdir: o.workdir ?? cfg.workdir,
    user: o.user ?? cfg.user,
    tty: o.tty ? (o.io.size ?? { rows: 24, cols: 80 }) : undefined,
    onStdout: push('stdout'),
    onStderr: push('stderr'),
  });
  const done = session.wait();
  if (o.detach) {
    yield { exit: await detached(d, row.id, o.argv, session, done) };
    return;
  }
  void done.then(() => q.end());
  const onAbort = () => session.signal('KILL');
  o.signal?.addEventListener('abort', onAbort);
  void pumpInput(o.io, session);
  try {
    for await (const e of q.drain(o.signal)) yield { output: e };
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
  if (o.signal?.aborted) return;
  yield { exit: await done };
}

/** exec -d: started, then left to run (the daemon's connection to the shim keeps the session alive). */
async function detached(
  d: ExecDeps,
  id: string,
  argv: string[],
  session: ExecSession,
  done: Promise<ExitStatus>,
): Promise<ExitStatus> {
  void done.then((r) => d.logger.debug({ id, argv, ...r }, 'detached exec ended'));
  await session.started.catch(() => undefined);
  const early = await Promise.race([done, new Promise<undefined>((r) => setImmediate(() => r(undefined)))]);
  return early?.error ? early : { exitCode: 0 };
}
