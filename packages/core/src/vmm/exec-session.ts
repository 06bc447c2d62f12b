/**
 * One exec session as the caller sees it, whatever carries it: frames on the VM's hypr.exec
 * channel (GuestVm.exec) or JSON lines through a shim (ShimClient.exec). The carrier turns what it
 * receives into ExecEvents and gives the session a way to send; the promises live here, once.
 */
import { HyprError } from '../errors.js';

export interface ExecOptions {
  argv: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  tty?: { rows: number; cols: number };
  onStdout?: (b: Buffer) => void;
  onStderr?: (b: Buffer) => void;
}

export interface ExecResult {
  exitCode: number;
  /** Why the program could not run (127 not found …). */
  error?: string;
}

export interface ExecSession {
  /** Resolves once the program has started (its pid in the guest), rejects when it could not. */
  readonly started: Promise<number>;
  write(data: Buffer | string): void;
  /** Closes the program's stdin. */
  end(): void;
  resize(rows: number, cols: number): void;
  signal(signal: string): void;
  /** The program's exit code; `error` says why when it could not run (127 not found …). */
  wait(): Promise<ExecResult>;
}

/** What a carrier reports about a session, in order: started?, output*, error?, exit (always last). */
export type ExecEvent =
  | { kind: 'started'; pid: number }
  | { kind: 'output'; stream: 'stdout' | 'stderr'; data: Buffer }
  | { kind: 'error'; message: string }
  | { kind: 'exit'; exitCode: number; error?: string };

/** How a session reaches its program. */
export interface ExecSender {
  write(data: Buffer): void;
  end(): void;
  resize(rows: number, cols: number): void;
  signal(signal: string): void;
}

export interface ExecSessionHandle {
  readonly session: ExecSession;
  /** Feeds what the carrier received; events after the exit are ignored. */
  deliver(event: ExecEvent): void;
  readonly ended: boolean;
}

export function createExecSession(o: ExecOptions, send: ExecSender): ExecSessionHandle {
  let startedResolve!: (pid: number) => void;
  let startedReject!: (e: Error) => void;
  const started = new Promise<number>((res, rej) => {
    startedResolve = res;
    startedReject = rej;
  });
  // A caller that only waits for the exit need not handle a start failure.
  started.catch(() => {});
  let done!: (r: ExecResult) => void;
  const finished = new Promise<ExecResult>((r) => {
    done = r;
  });
  let error: string | undefined;
  let ended = false;
  const deliver = (e: ExecEvent): void => {
    if (ended) return;
    switch (e.kind) {
      case 'started':
        startedResolve(e.pid);
        break;
      case 'output':
        (e.stream === 'stderr' ? o.onStderr : o.onStdout)?.(e.data);
        break;
      case 'error':
        error = e.message;
        break;
      case 'exit': {
        ended = true;
        const why = e.error ?? error;
        startedReject(new HyprError('EXEC_FAILED', why ?? `exec ended with ${e.exitCode}`));
        done({ exitCode: e.exitCode, ...(why !== undefined ? { error: why } : {}) });
        break;
      }
    }
  };
  const toBuffer = (d: Buffer | string) => (typeof d === 'string' ? Buffer.from(d) : d);
  return {
    session: {
      started,
      write: (d) => send.write(toBuffer(d)),
      end: () => send.end(),
      resize: (rows, cols) => send.resize(rows, cols),
      signal: (sig) => send.signal(sig),
      wait: () => finished,
    },
    deliver,
    get ended() {
      return ended;
    },
  };
}
