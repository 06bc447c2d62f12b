import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { constants, accessSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { HyprError } from './errors.js';
import { type Logger, silentLogger } from './log.js';

/** How a child process ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ProcessError extends HyprError {
  constructor(
    message: string,
    readonly exit: ChildExit | undefined,
    readonly stderrTail: string,
    hint?: string,
    options?: ErrorOptions,
  ) {
    super('PROCESS_FAILED', message, hint, options);
  }
}

export interface SpawnChildOptions {
  /** Explicit environment; defaults to PATH and HOME only, so nothing leaks into children by accident. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  signal?: AbortSignal;
  /** Grace period between SIGTERM and SIGKILL when the child is stopped. */
  killAfterMs?: number;
  stdio?: SpawnOptions['stdio'];
  log?: Logger;
  /** Bytes of stderr kept for error messages. */
  stderrTailBytes?: number;
  /** Package that provides the binary, named in the error when it is missing. */
  packageHint?: string;
  /**
   * Let the child outlive this process. By default (Linux) the kernel kills it with SIGKILL when
   * this process dies, even by kill -9 (see withParentDeath).
   */
  outliveOwner?: boolean;
}

export interface Child {
  readonly process: ChildProcess;
  readonly pid: number | undefined;
  /** Resolves when the child has exited; rejects with ProcessError if it could not start. */
  readonly exited: Promise<ChildExit>;
  /** Last bytes the child wrote to stderr (when stderr is a pipe). */
  stderrTail(): string;
  /** SIGTERM, then SIGKILL after killAfterMs, to the whole process group. Idempotent. */
  stop(): Promise<ChildExit>;
  /** SIGKILL to the whole process group. */
  kill(): void;
}

const running = new Set<Child>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // No child outlives its owner: on exit every group still running gets SIGKILL.
  process.on('exit', () => {
    for (const c of running) c.kill();
  });
}

/** The executable `binary` names (a path, or a name looked up on `path`), if there is one. */
export function findExecutable(binary: string, path = process.env.PATH ?? '', cwd = process.cwd()): string | undefined {
  const candidates = binary.includes('/')
    ? [isAbsolute(binary) ? binary : resolve(cwd, binary)]
    : path
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, binary));
  return candidates.find((c) => {
    try {
      accessSync(c, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

let setprivPath: string | null | undefined;

/**
 * The command that runs `binary` so that it dies with this process: util-linux's `setpriv
 * --pdeathsig KILL` sets PR_SET_PDEATHSIG and execs it. The kernel sends that signal when the
 * *thread* that forked the child ends, so only children started from the main thread get it (a
 * worker thread may end long before the process). The exit hook below covers a normal exit; this
 * covers kill -9 of the owner, so a shim's hypervisor and virtiofsd never outlive it. Without
 * setpriv (macOS) or when the binary is not found (the spawn then fails with ENOENT as usual), the
 * command is unchanged.
 */
export function withParentDeath(
  binary: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd?: string,
): [string, readonly string[]] {
  if (process.platform !== 'linux' || !isMainThread) return [binary, args];
  if (setprivPath === undefined)
    setprivPath = findExecutable('setpriv', `${env.PATH ?? ''}${delimiter}/usr/bin${delimiter}/bin`) ?? null;
  const resolved = setprivPath ? findExecutable(binary, env.PATH ?? '', cwd) : undefined;
  if (!setprivPath || !resolved) return [binary, args];
  return [setprivPath, ['--pdeathsig', 'KILL', '--', resolved, ...args]];
}

/** Starts a child in its own process group. The only way HYPR starts processes. */
export function spawnChild(binary: string, args: readonly string[], opts: SpawnChildOptions = {}): Child {
  const log = (opts.log ?? silentLogger).child({ bin: binary });
  const tailBytes = opts.stderrTailBytes ?? 8192;
  const killAfterMs = opts.killAfterMs ?? 5000;
  const env = opts.env ?? { PATH: process.env.PATH, HOME: process.env.HOME };
  const [command, argv] = opts.outliveOwner ? [binary, args] : withParentDeath(binary, args, env, opts.cwd);
  const proc = spawn(command, argv, {
    env,
    cwd: opts.cwd,
    detached: true,
    stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  proc.stderr?.on('data', (b: Buffer) => {
    tail = (tail + b.toString('utf8')).slice(-tailBytes);
  });
  let exitInfo: ChildExit | undefined;
  const exited = new Promise<ChildExit>((resolve, reject) => {
    proc.once('error', (e: NodeJS.ErrnoException) => {
      running.delete(child);
      if (e.code === 'ENOENT') {
        reject(
          new ProcessError(
            `${binary}: not found`,
            undefined,
            '',
            opts.packageHint ? `install the ${opts.packageHint} package` : undefined,
            { cause: e },
          ),
        );
      } else reject(new ProcessError(`${binary}: ${e.message}`, undefined, tail, undefined, { cause: e }));
    });
    proc.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      running.delete(child);
      log.debug({ code, signal }, 'child exited');
      resolve(exitInfo);
    });
  });
  exited.catch(() => {});
  const signalGroup = (sig: NodeJS.Signals) => {
    if (proc.pid === undefined || exitInfo) return;
    try {
      process.kill(-proc.pid, sig);
    } catch {
      try {
        proc.kill(sig);
      } catch {
        /* already gone */
      }
    }
  };
  let stopping: Promise<ChildExit> | undefined;
  const child: Child = {
    process: proc,
    pid: proc.pid,
    exited,
    stderrTail: () => tail,
    kill: () => signalGroup('SIGKILL'),
    stop() {
      if (stopping) return stopping;
      stopping = (async () => {
        if (exitInfo) return exitInfo;
        signalGroup('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        try {
          const killed = new Promise<void>((r) => {
            timer = setTimeout(() => {
              signalGroup('SIGKILL');
              r();
            }, killAfterMs);
          });
          await Promise.race([exited.catch(() => undefined), killed]);
          return await exited.catch(() => ({ code: null, signal: 'SIGKILL' as NodeJS.Signals }));
        } finally {
          clearTimeout(timer);
        }
      })();
      return stopping;
    },
  };
  if (proc.pid !== undefined) {
    running.add(child);
    installExitHook();
  }
  if (opts.signal) {
    const onAbort = () => void child.stop();
    if (opts.signal.aborted) onAbort();
    else {
      opts.signal.addEventListener('abort', onAbort, { once: true });
      exited.finally(() => opts.signal?.removeEventListener('abort', onAbort)).catch(() => {});
    }
  }
  return child;
}

/** Runs a command to completion and returns its stdout; throws ProcessError (with the stderr tail) on failure. */
export async function runCommand(
  binary: string,
  args: readonly string[],
  opts: SpawnChildOptions & { input?: Buffer | string } = {},
): Promise<{ stdout: string; stderr: string }> {
  const child = spawnChild(binary, args, { ...opts, stdio: [opts.input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.process.stdout?.on('data', (b: Buffer) => out.push(b));
  child.process.stderr?.on('data', (b: Buffer) => err.push(b));
  // 'close' comes after 'exit' once stdout and stderr are drained: reading on 'exit' alone loses the tail.
  const closed = new Promise<void>((r) => child.process.once('close', () => r()));
  if (opts.input !== undefined) child.process.stdin?.end(opts.input);
  const exit = await child.exited;
  await closed;
  const stdout = Buffer.concat(out).toString('utf8');
  const stderr = Buffer.concat(err).toString('utf8');
  if (exit.code !== 0) {
    throw new ProcessError(
      `${binary} ${args.join(' ')} failed (${exit.signal ?? `exit ${exit.code}`}): ${stderr.trim().split('\n').slice(-5).join('\n')}`,
      exit,
      stderr.slice(-8192),
      opts.packageHint ? `is the ${opts.packageHint} package installed?` : undefined,
    );
  }
  return { stdout, stderr };
}
