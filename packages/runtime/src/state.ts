/**
 * What hypr-runtime keeps per container under --root (default /run/hypr-runtime), one directory
 * per id, and the state JSON `hypr-runtime state` prints (runtime-spec runtime.md "State").
 *
 *   ROOT/ID/container.json  ContainerRecord, written by create
 *   ROOT/ID/bundle.json     the BundleSpec the supervisor runs
 *   ROOT/ID/started.json    {startedAt, vmPid, vmPidStartTicks}, written by the supervisor once the program runs
 *   ROOT/ID/paused          present while the VM is frozen (pause)
 *   ROOT/ID/exit.json       {exitCode, finishedAt, error?}, written by the supervisor at the end
 *   ROOT/ID/sock            the supervisor's socket (JSON lines, protocol.ts)
 *   ROOT/ID/supervisor.log  the supervisor's own diagnostics
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HyprError } from '@hypr/core/errors';

export const DEFAULT_ROOT = '/run/hypr-runtime';
export const OCI_VERSION = '1.0.2';

export const FILES = {
  container: 'container.json',
  bundle: 'bundle.json',
  started: 'started.json',
  exit: 'exit.json',
  paused: 'paused',
  socket: 'sock',
  log: 'supervisor.log',
} as const;

export interface ContainerRecord {
  id: string;
  bundle: string;
  rootfs: string;
  created: string;
  /** The supervisor: the process the engine waits on (--pid-file). */
  pid: number;
  /** Its start time in clock ticks (/proc/PID/stat field 22), so a reused pid is not taken for it. */
  pidStartTicks?: number;
  annotations: Record<string, string>;
}

export interface StartedRecord {
  startedAt: string;
  /** The hypervisor, leader of its own process group. */
  vmPid?: number;
  vmPidStartTicks?: number;
}

export interface ExitRecord {
  exitCode: number;
  finishedAt: string;
  error?: string;
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'stopped';

/** The state object of the runtime spec, as runc prints it. */
export interface OciState {
  ociVersion: string;
  id: string;
  pid: number;
  status: ContainerStatus;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
}

const ID_PATTERN = /^[\w+.-]+$/;

/** The container's directory; the id is checked as runc checks it (no "/" or ".." can escape ROOT). */
export function containerDir(root: string, id: string): string {
  if (!ID_PATTERN.test(id) || id === '.' || id === '..')
    throw new HyprError(
      'INVALID_NAME',
      `invalid container id ${JSON.stringify(id)}`,
      'use letters, digits and + - . _ only',
    );
  return join(root, id);
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(value), { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

export function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function notFound(id: string): HyprError {
  // runc's wording: engines recognise "does not exist" when they delete or kill a container twice.
  return new HyprError('CONTAINER_NOT_FOUND', `container ${id} does not exist`);
}

export function readContainer(root: string, id: string): ContainerRecord {
  const record = readJson<ContainerRecord>(join(containerDir(root, id), FILES.container));
  if (!record) throw notFound(id);
  return record;
}

/** Clock ticks since boot when PID started, or undefined when there is no such process. */
export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

/** True while the process lives (a zombie no longer counts: its exit status is all that is left). */
export function processAlive(pid: number | undefined, startTicks?: number): boolean {
  if (!pid) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return false;
    return startTicks === undefined || Number(fields[19]) === startTicks;
  } catch {
    return false;
  }
}

export function supervisorAlive(record: Pick<ContainerRecord, 'pid' | 'pidStartTicks'>): boolean {
  return processAlive(record.pid, record.pidStartTicks);
}

export interface ContainerFacts {
  alive: boolean;
  started?: StartedRecord;
  exit?: ExitRecord;
  paused?: boolean;
}

export function readFacts(dir: string, record: ContainerRecord): ContainerFacts {
  return {
    alive: supervisorAlive(record),
    started: readJson<StartedRecord>(join(dir, FILES.started)),
    exit: readJson<ExitRecord>(join(dir, FILES.exit)),
    paused: existsSync(join(dir, FILES.paused)),
  };
}

export function statusOf(facts: ContainerFacts): ContainerStatus {
  if (facts.exit || !facts.alive) return 'stopped';
  if (!facts.started) return 'created';
  return facts.paused ? 'paused' : 'running';
}

export function ociState(record: ContainerRecord, status: ContainerStatus): OciState {
  return {
    ociVersion: OCI_VERSION,
    id: record.id,
    // As runc: a stopped container has no process.
    pid: status === 'stopped' ? 0 : record.pid,
    status,
    bundle: record.bundle,
    rootfs: record.rootfs,
    created: record.created,
    owner: '',
    ...(Object.keys(record.annotations).length ? { annotations: record.annotations } : {}),
  };
}
