/**
 * The processes of one container, found without asking its shim: a shim, hypervisor or virtiofsd
 * whose command line names the container's directory (the shim's argument, the writable disk on
 * the hypervisor's), plus the pids state.json recorded, when their start time still matches (a pid
 * reused by another process is never killed). hyprd uses this where it holds no connection to the
 * shim — `rm -f` after a restart, reconcile — and after every exit, so that a TAP and an address
 * are released only once nothing uses them.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename } from 'node:path';

/** What runs a container: the shim (hypr-shim DIR), the hypervisor, virtiofsd. */
const CONTAINER_PROCESS = /^(hypr-shim|qemu-system-.*|cloud-hypervisor|virtiofsd|vfkit)$/;

/** A pid and the start time /proc gave it (clock ticks since boot), to tell it from a reused pid. */
export interface RecordedProcess {
  pid: number;
  startTicks?: number;
}

function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** The start time of `pid` in clock ticks since boot (field 22 of /proc/PID/stat); undefined off Linux. */
export function processStartTicks(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

function isContainerProcess(argv: readonly string[]): boolean {
  // argv[0] is the binary (ip or setpriv for a moment before they exec the hypervisor).
  return argv.slice(0, 5).some((a) => CONTAINER_PROCESS.test(basename(a)));
}

function names(argv: readonly string[], dir: string): boolean {
  return argv.some((a) => a === dir || a.includes(`${dir}/`));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The live processes of the container whose directory is `dir` (absolute). A zombie has closed
 * its files (TAP included) and has no command line any more: it counts as gone.
 */
export function findShimProcesses(dir: string, recorded: readonly RecordedProcess[] = []): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    // No /proc (macOS): the recorded pids are all there is to go by.
    return recorded.map((r) => r.pid).filter((pid) => pid > 0 && pid !== process.pid && alive(pid));
  }
  const found = new Set<number>();
  for (const e of entries) {
    const pid = Number(e);
    if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) continue;
    const argv = commandLine(pid);
    if (isContainerProcess(argv) && names(argv, dir)) found.add(pid);
  }
  for (const r of recorded) {
    if (!r.pid || r.pid === process.pid || found.has(r.pid) || r.startTicks === undefined) continue;
    if (processStartTicks(r.pid) === r.startTicks && isContainerProcess(commandLine(r.pid))) found.add(r.pid);
  }
  return [...found];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Ends every process of the container in `dir`: waits up to `graceMs` for them to end on their own
 * (a shim finishing after the exit), then SIGKILLs what is left, and resolves with the pids that
 * had to be killed once none is alive (or after `timeoutMs`, with those still alive logged by the
 * caller through `remaining`).
 */
export async function endShimProcesses(
  dir: string,
  opts: { recorded?: readonly RecordedProcess[]; graceMs?: number; timeoutMs?: number } = {},
): Promise<{ killed: number[]; remaining: number[] }> {
  const find = () => findShimProcesses(dir, opts.recorded);
  let pids = find();
  const graceEnd = Date.now() + (opts.graceMs ?? 0);
  // A shim ends a moment after its exit frame: look again soon, then less often.
  for (let i = 0; pids.length && Date.now() < graceEnd; i++) {
    await sleep(i < 20 ? 10 : 50);
    pids = find();
  }
  const killed = new Set<number>();
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  while (pids.length) {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
        killed.add(pid);
      } catch {
        /* gone meanwhile */
      }
    }
    if (Date.now() > deadline) return { killed: [...killed], remaining: pids };
    await sleep(50);
    pids = find();
  }
  return { killed: [...killed], remaining: [] };
}
