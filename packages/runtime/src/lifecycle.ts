/**
 * The lifecycle commands of the runtime spec, as runc does them: create (a supervisor waiting for
 * start, its pid in --pid-file), start (boot the VM and run the program), state, kill and delete.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigKeyError, HyprError } from '@hypr/core/errors';
import { loadBundle } from './bundle.js';
import { type Reply, type Request, connectSupervisor, encodeLine, onLines } from './protocol.js';
import { parseSignal } from './signals.js';
import {
  type ContainerRecord,
  FILES,
  type OciState,
  type StartedRecord,
  containerDir,
  notFound,
  ociState,
  processAlive,
  processStartTicks,
  readContainer,
  readFacts,
  readJson,
  statusOf,
  supervisorAlive,
  writeJsonAtomic,
} from './state.js';

/** How long `create` waits for its supervisor to listen, and `delete` for one to end. */
const SUPERVISOR_WAIT_MS = 30_000;

export interface CreateOptions {
  root: string;
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
}

function supervisorScript(): string {
  return join(dirname(fileURLToPath(import.meta.url)), 'supervisor-main.js');
}

/** Reads the first line the supervisor writes on its pipe: "ready" or "error: …". */
function firstLine(child: ReturnType<typeof spawn>): Promise<string> {
  return new Promise((resolveLine) => {
    let text = '';
    const pipe = child.stdio[3] as NodeJS.ReadableStream | null;
    const done = (line: string) => {
      pipe?.removeAllListeners('data');
      resolveLine(line);
    };
    pipe?.on('data', (b: Buffer) => {
      text += b.toString('utf8');
      const nl = text.indexOf('\n');
      if (nl >= 0) done(text.slice(0, nl));
    });
    child.once('exit', (code, signal) => done(`error: the supervisor exited (${signal ?? `code ${code}`})`));
    child.once('error', (e) => done(`error: ${e.message}`));
  });
}

export async function createContainer(o: CreateOptions): Promise<ContainerRecord> {
  const dir = containerDir(o.root, o.id);
  if (existsSync(join(dir, FILES.container)))
    throw new HyprError('CONTAINER_NAME_IN_USE', `container ${o.id} already exists`, 'delete it first');
  const bundle = resolve(o.bundle);
  const spec = loadBundle(bundle);
  const file = join(bundle, 'config.json');
  if (spec.process.terminal || o.consoleSocket)
    throw new ConfigKeyError(
      'CONFIG_INVALID',
      'a terminal is not supported by hypr-runtime yet',
      file,
      'process.terminal',
      undefined,
      'run the container without -t (podman run -i works)',
    );
  if (!existsSync(spec.rootfs) || !statSync(spec.rootfs).isDirectory())
    throw new ConfigKeyError(
      'CONFIG_INVALID',
      `the root filesystem ${spec.rootfs} is not a directory`,
      file,
      'root.path',
    );
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeJsonAtomic(join(dir, FILES.bundle), spec);
  // The supervisor must outlive this command and keep the engine's stdio, so it is spawned here
  // rather than through core's spawnChild (which ends its children with their owner).
  const child = spawn(process.execPath, [supervisorScript(), dir], {
    cwd: dir,
    detached: true,
    stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
    env: supervisorEnv(),
  });
  const pid = child.pid ?? 0;
  const record: ContainerRecord = {
    id: o.id,
    bundle,
    rootfs: spec.rootfs,
    created: new Date().toISOString(),
    pid,
    pidStartTicks: pid ? processStartTicks(pid) : undefined,
    annotations: spec.annotations,
  };
  writeJsonAtomic(join(dir, FILES.container), record);
  const line = await firstLine(child);
  if (line !== 'ready') {
    const log = readFileSync(join(dir, FILES.log), 'utf8').trim().split('\n').slice(-3).join('\n');
    rmSync(dir, { recursive: true, force: true });
    throw new HyprError('SHIM_FAILED', `container ${o.id}: ${line.replace(/^error: /, '')}${log ? `\n${log}` : ''}`);
  }
  if (o.pidFile) writePidFile(o.pidFile, pid);
  return record;
}

function supervisorEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: process.env.HOME };
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('HYPR_')) env[k] = v;
  return env;
}

/** As runc: the pid, no newline, written atomically (engines may read it as soon as it exists). */
export function writePidFile(path: string, pid: number): void {
  const abs = resolve(path);
  mkdirSync(dirname(abs), { recursive: true });
  writeJsonAtomic(abs, pid);
}

/** Sends one request to the supervisor and waits for its reply. */
async function request(dir: string, msg: Request): Promise<void> {
  const socket = await connectSupervisor(dir, FILES.socket);
  try {
    const reply = await new Promise<Reply>((resolveReply, reject) => {
      onLines<Reply>(socket, resolveReply);
      socket.once('close', () => reject(new HyprError('SHIM_FAILED', 'the supervisor closed the connection')));
      socket.write(encodeLine(msg));
    });
    if (reply.event === 'reply' && !reply.ok) throw new HyprError('SHIM_FAILED', reply.error);
  } finally {
    socket.destroy();
  }
}

export async function startContainer(root: string, id: string): Promise<void> {
  const dir = containerDir(root, id);
  const record = readContainer(root, id);
  const status = statusOf(readFacts(dir, record));
  if (status !== 'created')
    throw new HyprError('CONTAINER_IS_RUNNING', `cannot start container ${id}: it is ${status}`, 'create it anew');
  await request(dir, { op: 'start' });
}

/** pause / resume: freezes or thaws the whole VM. */
export async function freezeContainer(root: string, id: string, on: boolean): Promise<void> {
  const dir = containerDir(root, id);
  const record = readContainer(root, id);
  const status = statusOf(readFacts(dir, record));
  if (status !== (on ? 'running' : 'paused'))
    throw new HyprError(
      on ? 'CONTAINER_NOT_RUNNING' : 'CONTAINER_NOT_PAUSED',
      `cannot ${on ? 'pause' : 'resume'} container ${id}: it is ${status}`,
    );
  await request(dir, { op: on ? 'pause' : 'resume' });
}

/** The container's processes on the host, as runc ps lists them: the supervisor. */
export function containerPids(root: string, id: string): number[] {
  const state = containerState(root, id);
  return state.pid ? [state.pid] : [];
}

export function containerState(root: string, id: string): OciState {
  const dir = containerDir(root, id);
  const record = readContainer(root, id);
  return ociState(record, statusOf(readFacts(dir, record)));
}

export async function killContainer(root: string, id: string, signalText = 'SIGTERM'): Promise<void> {
  const signal = parseSignal(signalText);
  const dir = containerDir(root, id);
  const record = readContainer(root, id);
  if (statusOf(readFacts(dir, record)) === 'stopped')
    throw new HyprError('CONTAINER_NOT_RUNNING', `container ${id} is not running`);
  try {
    await request(dir, { op: 'kill', signal });
  } catch {
    // The supervisor does not answer: the signal goes to it, as runc's would go to the init.
    if (supervisorAlive(record)) process.kill(record.pid, signal);
  }
}

export async function deleteContainer(root: string, id: string, force: boolean): Promise<void> {
  const dir = containerDir(root, id);
  let record: ContainerRecord;
  try {
    record = readContainer(root, id);
  } catch (e) {
    // As runc: a directory without its record (an aborted create) goes; --force never fails on it.
    rmSync(dir, { recursive: true, force: true });
    if (force) return;
    throw e instanceof HyprError ? e : notFound(id);
  }
  const facts = readFacts(dir, record);
  const status = statusOf(facts);
  if ((status === 'running' || status === 'paused') && !force)
    throw new HyprError(
      'CONTAINER_IS_RUNNING',
      `cannot delete container ${id}: it is ${status}`,
      'stop it, or pass --force',
    );
  if (status !== 'stopped') await endSupervisor(dir, record);
  // A supervisor killed outright (kill -9) leaves its hypervisor running: it goes here.
  const started = readJson<StartedRecord>(join(dir, FILES.started));
  if (!facts.exit && processAlive(started?.vmPid, started?.vmPidStartTicks)) killGroup(started?.vmPid);
  rmSync(dir, { recursive: true, force: true });
}

function killGroup(pid: number | undefined): void {
  try {
    if (pid) process.kill(-pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** KILL through the supervisor; if it is still there after the wait, it is killed. */
async function endSupervisor(dir: string, record: ContainerRecord): Promise<void> {
  await request(dir, { op: 'kill', signal: 'SIGKILL' }).catch(() => undefined);
  const deadline = Date.now() + SUPERVISOR_WAIT_MS;
  while (supervisorAlive(record) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (!supervisorAlive(record)) return;
  try {
    process.kill(record.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** What `hypr-runtime features` prints (runtime-spec features.md). */
export function features(): Record<string, unknown> {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.1.0',
    hooks: [],
    mountOptions: ['bind', 'rbind', 'ro', 'rw'],
    linux: { namespaces: ['mount', 'network', 'uts', 'ipc', 'pid', 'cgroup'], cgroup: { v1: false, v2: false } },
    annotations: { 'org.hypr.runtime.isolation': 'microvm' },
  };
}
