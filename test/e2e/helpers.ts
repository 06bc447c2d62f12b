/**
 * End-to-end harness: a real hyprd process on a temp socket and temp HYPR_HOME, the real `hypr`
 * CLI as a child process, and images from a real local registry (busybox-static based).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pushBusyboxImage } from '../../packages/core/test/helpers/busybox-image.js';
import { type TestRegistry, startRegistry } from '../../packages/core/test/helpers/registry.js';
import { assertVmPrerequisites } from '../../packages/core/test/helpers/vm.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const HYPRD = join(ROOT, 'packages/daemon/bin/hyprd.js');
export const HYPR = join(ROOT, 'packages/cli/bin/hypr.cjs');

export interface Daemon {
  home: string;
  socket: string;
  host: string;
  proc: ChildProcess;
  pid: number;
  log(): string;
  /** SIGTERM and wait (graceful). */
  stop(): Promise<number | null>;
  /** End of a test file: remove every container (their VMs outlive hyprd by design), then stop. */
  shutdown(): Promise<void>;
  /** SIGKILL: the daemon dies at once, as in a crash. */
  crash(): Promise<void>;
}

function daemonEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, HYPR_HOME: home, HYPR_LOG_LEVEL: 'debug', ...extra };
}

/** Starts hyprd as its own process and waits for its socket to answer; `env` adds to its environment. */
export async function startDaemon(
  opts: { home?: string; dir?: string; network?: boolean; env?: Record<string, string> } = {},
): Promise<Daemon> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'hypr-e2e-')));
  const home = opts.home ?? join(dir, 'home');
  // Daemons of parallel test files share the host's network namespace: without their own netns
  // (see network.test.ts) they would fight over the default bridge, its DNS port and published
  // ports. So by default containers get no network (docker's "bridge": "none").
  if (!opts.network && !existsSync(join(home, 'daemon.json'))) {
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'daemon.json'), JSON.stringify({ bridge: 'none' }));
  }
  // These daemons run in the host's network namespace: without a default bridge they create no
  // bridge, TAP or nftables rule there. Networking is tested by network.test.ts and
  // compose.test.ts, whose daemons run in namespaces of their own.
  const config = join(home, 'daemon.json');
  if (!existsSync(config)) {
    await mkdir(home, { recursive: true });
    await writeFile(config, JSON.stringify({ bridge: 'none' }));
  }
  const socket = join(dir, 'hyprd.sock');
  const logPath = join(dir, `hyprd-${Date.now()}.log`);
  const { openSync, closeSync } = await import('node:fs');
  const fd = openSync(logPath, 'a');
  const proc = spawn(process.execPath, [HYPRD, '-H', `unix://${socket}`], {
    env: daemonEnv(home, opts.env),
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (existsSync(socket) && readFileSync(logPath, 'utf8').includes('hyprd listening')) break;
    const done = await Promise.race([
      exited.then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 50)),
    ]);
    if (done || Date.now() > deadline) throw new Error(`hyprd did not start:\n${readFileSync(logPath, 'utf8')}`);
  }
  const daemon: Daemon = {
    home,
    socket,
    host: `unix://${socket}`,
    proc,
    pid: proc.pid!,
    log: () => readFileSync(logPath, 'utf8'),
    async stop() {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      return exited;
    },
    async shutdown() {
      if (proc.exitCode === null) {
        const ids = (await hypr({ host: `unix://${socket}` }, ['ps', '-a', '-q'])).stdout
          .trim()
          .split('\n')
          .filter(Boolean);
        if (ids.length) await hypr({ host: `unix://${socket}` }, ['rm', '-f', ...ids], { timeoutMs: 300_000 });
      }
      await this.stop();
    },
    async crash() {
      proc.kill('SIGKILL');
      await exited;
    },
  };
  return daemon;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `hypr ARGS` against the daemon and collects its output and exit status. */
export function hypr(
  daemon: Pick<Daemon, 'host'>,
  args: string[],
  opts: { timeoutMs?: number; input?: string; onStdout?: (s: string) => void } = {},
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [HYPR, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, HYPR_HOST: daemon.host },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => {
      stdout += b;
      opts.onStdout?.(b.toString());
    });
    child.stderr.on('data', (b) => {
      stderr += b;
    });
    child.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hypr ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 240_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? 128, stdout, stderr });
    });
  });
}

/**
 * Runs `hypr ARGS` on a pseudo-terminal (util-linux `script`), as a user at a terminal would, and
 * types `input` into it once `ready` appears in the output (or at once).
 */
export function hyprOnPty(
  daemon: Pick<Daemon, 'host'>,
  args: string[],
  input: string,
  opts: { timeoutMs?: number; ready?: RegExp } = {},
): Promise<CliResult> {
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, HYPR, ...args].map(quote).join(' ');
  return new Promise((resolvePromise, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, HYPR_HOST: daemon.host, TERM: 'dumb' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let typed = false;
    const type = () => {
      if (typed) return;
      typed = true;
      child.stdin.write(input);
    };
    child.stdout.on('data', (b) => {
      stdout += b;
      if (opts.ready?.test(stdout)) type();
    });
    child.stderr.on('data', (b) => {
      stderr += b;
    });
    if (!opts.ready) type();
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hypr ${args.join(' ')} on a pty timed out\noutput: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 240_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? 128, stdout, stderr });
    });
  });
}

/** Runs hypr and fails with its output unless it exits 0. */
export async function hyprOk(
  daemon: Pick<Daemon, 'host'>,
  args: string[],
  opts?: { timeoutMs?: number },
): Promise<string> {
  const r = await hypr(daemon, args, opts);
  if (r.code !== 0)
    throw new Error(`hypr ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

export interface E2eEnv {
  registry: TestRegistry;
  /** `127.0.0.1:PORT/busybox:latest` with Cmd sh, Env PATH=/bin… */
  image: string;
  dir: string;
  cleanup(): Promise<void>;
}

/** The registry and a busybox image in it, pushed with a plain HTTP client (independent of HYPR). */
export async function startE2eEnv(
  images: { name: string; opts?: Parameters<typeof pushBusyboxImage>[2] }[] = [{ name: 'busybox:latest' }],
): Promise<E2eEnv & { refs: string[] }> {
  assertVmPrerequisites();
  const registry = await startRegistry();
  const refs: string[] = [];
  for (const i of images) refs.push((await pushBusyboxImage(registry, i.name, i.opts)).ref);
  const dir = await mkdtemp(join(tmpdir(), 'hypr-e2e-'));
  return {
    registry,
    image: refs[0],
    refs,
    dir,
    async cleanup() {
      await registry.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function waitFor<T>(
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
