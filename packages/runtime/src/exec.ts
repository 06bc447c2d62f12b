/**
 * `hypr-runtime exec`: runs another program in a running container's VM through its supervisor.
 * In the foreground it relays stdio and exits with the program's code. With --detach (how conmon
 * and containerd's shim call it) a helper process does that, its pid goes to --pid-file, and the
 * command returns once the program has started — the engine then waits on the helper as runc's
 * exec'd process.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HyprError } from '@hypr/core/errors';
import { type BundleSpec, type ProcessSpec, parseProcess } from './bundle.js';
import { writePidFile } from './lifecycle.js';
import { type Reply, type Request, connectSupervisor, encodeLine, onLines } from './protocol.js';
import { FILES, containerDir, readContainer, readFacts, readJson, statusOf } from './state.js';
import { stdinIsNull } from './stdio.js';

export interface ExecFlags {
  processFile?: string;
  args: string[];
  cwd?: string;
  env: string[];
  user?: string;
  tty: boolean;
}

/** The program to exec: --process FILE, or the config's process with the given args and flags (as runc). */
export function execProcess(dir: string, f: ExecFlags): ProcessSpec {
  if (f.processFile) {
    let text: string;
    try {
      text = readFileSync(f.processFile, 'utf8');
    } catch (e) {
      throw new HyprError('CLI_FILE_NOT_FOUND', `cannot read --process ${f.processFile}: ${(e as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new HyprError('CONFIG_INVALID', `--process ${f.processFile} is not JSON: ${(e as Error).message}`);
    }
    return parseProcess(json, f.processFile);
  }
  if (f.args.length === 0)
    throw new HyprError('CLI_ARGUMENT_MISSING', 'exec needs a command or --process FILE', 'exec ID COMMAND [ARG...]');
  const base = readJson<BundleSpec>(join(dir, FILES.bundle))?.process;
  return {
    argv: f.args,
    env: [...(base?.env ?? []), ...f.env],
    cwd: f.cwd ?? base?.cwd ?? '/',
    user: f.user ?? base?.user ?? '0:0',
    terminal: f.tty,
  };
}

export interface ExecCommand {
  root: string;
  id: string;
  flags: ExecFlags;
  detach: boolean;
  pidFile?: string;
}

export async function execInContainer(c: ExecCommand): Promise<number> {
  const dir = containerDir(c.root, c.id);
  const record = readContainer(c.root, c.id);
  const status = statusOf(readFacts(dir, record));
  if (status !== 'running')
    throw new HyprError('CONTAINER_NOT_RUNNING', `cannot exec in container ${c.id}: it is ${status}`);
  const proc = execProcess(dir, c.flags);
  if (proc.terminal)
    throw new HyprError(
      'EXEC_NOT_SUPPORTED',
      'exec with a terminal is not supported by hypr-runtime yet',
      'exec without -t',
    );
  if (!c.detach) {
    const code = await runExecSession(dir, proc, () => {});
    return code;
  }
  return detachExec(dir, proc, c.pidFile);
}

/** Starts the helper, waits until the program has started (or could not), writes the pid file. */
async function detachExec(dir: string, proc: ProcessSpec, pidFile: string | undefined): Promise<number> {
  const helper = join(dirname(fileURLToPath(import.meta.url)), 'exec-main.js');
  const child = spawn(process.execPath, [helper, dir, JSON.stringify(proc)], {
    detached: true,
    stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  });
  const line = await new Promise<string>((resolveLine) => {
    let text = '';
    child.stdio[3]?.on('data', (b: Buffer) => {
      text += b.toString('utf8');
      const nl = text.indexOf('\n');
      if (nl >= 0) resolveLine(text.slice(0, nl));
    });
    child.once('exit', (code) => resolveLine(`error: the exec helper exited (code ${code})`));
  });
  if (!line.startsWith('started')) throw new HyprError('EXEC_FAILED', `exec failed: ${line.replace(/^error: /, '')}`);
  if (pidFile && child.pid) writePidFile(pidFile, child.pid);
  return 0;
}

/** Runs one exec session to its end, relaying stdio and signals; notify hears "started" or "error: …". */
export async function runExecSession(dir: string, proc: ProcessSpec, notify: (line: string) => void): Promise<number> {
  const socket = await connectSupervisor(dir, FILES.socket);
  const stdin = !stdinIsNull();
  const send = (m: Request) => {
    if (!socket.destroyed) socket.write(encodeLine(m));
  };
  send({ op: 'exec', argv: proc.argv, env: proc.env, cwd: proc.cwd, user: proc.user, stdin });
  if (stdin) {
    process.stdin.on('data', (b: Buffer) => send({ op: 'stdin', data: b.toString('base64') }));
    process.stdin.on('end', () => send({ op: 'close-stdin' }));
  }
  const forward = (signal: NodeJS.Signals) => send({ op: 'signal', signal });
  for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const) process.on(s, forward);
  let started = false;
  return new Promise<number>((resolveCode) => {
    onLines<Reply>(socket, (m) => {
      if (m.event === 'out')
        (m.stream === 'stderr' ? process.stderr : process.stdout).write(Buffer.from(m.data, 'base64'));
      else if (m.event === 'exec-started') {
        started = true;
        notify('started');
      } else if (m.event === 'exec-exit') {
        if (!started) notify(`error: ${m.error ?? `the program exited with ${m.exitCode} before it started`}`);
        if (m.error) process.stderr.write(`hypr-runtime: ${m.error}\n`);
        resolveCode(m.exitCode);
      } else if (m.event === 'reply' && !m.ok) {
        notify(`error: ${m.error}`);
        process.stderr.write(`hypr-runtime: ${m.error}\n`);
        resolveCode(255);
      }
    });
    // The container ended under the session: its programs were killed with it.
    socket.once('close', () => {
      if (!started) notify('error: the container ended');
      resolveCode(137);
    });
  }).finally(() => {
    if (stdin) process.stdin.destroy();
    socket.destroy();
  });
}
