/**
 * docker top and docker stats for containers that are VMs: the processes come from Kestrel's ps in
 * the guest; CPU is the hypervisor process's CPU time on the host, memory what the guest's balloon
 * driver reports, block I/O QEMU's query-blockstats (both through the container's shim), network
 * I/O the counters of its TAP devices, PIDs the guest's process count.
 */
import { readFile } from 'node:fs/promises';
import { type Logger, connectShim, readShimState } from '@hypr/core';
import { liveExec } from './copy.js';
import { guestProcesses } from './guest-tar.js';
import type { RunningContainers } from './running.js';
import { type ContainerStore, storedConfig } from './store.js';
import type { ContainerRow } from './types.js';

export interface TopStatsDeps {
  store: ContainerStore;
  running: RunningContainers;
  runtimeName: string;
  logger: Logger;
  /** The host TAP devices of a container (empty without networking). */
  tapsOf(id: string): string[];
}

export interface ContainerStatsSample {
  id: string;
  name: string;
  cpuPercent: number;
  memoryUsageBytes: number;
  memoryLimitBytes: number;
  netRxBytes: number;
  netTxBytes: number;
  blockReadBytes: number;
  blockWriteBytes: number;
  pids: number;
  running: boolean;
}

/** USER_HZ: the unit of utime and stime in /proc/PID/stat. */
const CLOCK_TICKS_PER_SECOND = 100;
/** The shortest interval a CPU percentage is measured over. */
const MIN_CPU_WINDOW_MS = 500;

export async function topContainer(
  d: TopStatsDeps,
  text: string,
  psArgs: readonly string[],
): Promise<{ titles: string[]; rows: string[][] }> {
  const { exec } = liveExec(d, text, 'top');
  return guestProcesses(exec, psArgs);
}

/** The CPU time (user + system, in ticks) of a host process; undefined when it is gone. */
async function cpuTicks(pid: number | undefined): Promise<number | undefined> {
  if (!pid) return undefined;
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!text) return undefined;
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function counter(tap: string, name: string): Promise<number> {
  const text = await readFile(`/sys/class/net/${tap}/statistics/${name}`, 'utf8').catch(() => '0');
  return Number(text.trim()) || 0;
}

function idle(row: ContainerRow, running: boolean): ContainerStatsSample {
  return {
    id: row.id,
    name: row.name,
    cpuPercent: 0,
    memoryUsageBytes: 0,
    memoryLimitBytes: running ? storedConfig(row).memoryMiB * 1024 * 1024 : 0,
    netRxBytes: 0,
    netTxBytes: 0,
    blockReadBytes: 0,
    blockWriteBytes: 0,
    pids: 0,
    running,
  };
}

/** CPU ticks of each container's VM process at one moment, for the next sample's percentage. */
export interface CpuMark {
  ticks: number;
  atMs: number;
}

/** One sample of a container; `prev` is the CPU mark of the previous sample (updated here). */
async function sampleOne(
  d: TopStatsDeps,
  row: ContainerRow,
  prev: Map<string, CpuMark>,
): Promise<ContainerStatsSample> {
  const live = d.running.get(row.id);
  if (!live || (row.state !== 'running' && row.state !== 'paused')) return idle(row, false);
  const dir = d.store.dirOf(row);
  const pid = readShimState(dir)?.vmPid ?? row.pid ?? undefined;
  const s = idle(row, true);
  const startTicks = await cpuTicks(pid);
  const start = prev.get(row.id) ?? (startTicks !== undefined ? { ticks: startTicks, atMs: Date.now() } : undefined);
  const shim = await connectShim(dir).catch(() => undefined);
  try {
    const vm = await shim?.stats().catch((e) => d.logger.debug({ id: row.id, err: e }, 'vm stats failed'));
    if (vm?.memory) {
      s.memoryUsageBytes = vm.memory.usedBytes;
      s.memoryLimitBytes = vm.memory.limitBytes;
    }
    for (const b of vm?.blockIo ?? []) {
      s.blockReadBytes += b.readBytes;
      s.blockWriteBytes += b.writeBytes;
    }
  } finally {
    shim?.close();
  }
  if (row.state === 'running' && live.handle.exec)
    s.pids = await topContainer(d, row.id, [])
      .then((t) => t.rows.length)
      .catch(() => 0);
  for (const tap of d.tapsOf(row.id)) {
    // The host's TAP receives what the container sends, and the other way round.
    s.netRxBytes += await counter(tap, 'tx_bytes');
    s.netTxBytes += await counter(tap, 'rx_bytes');
  }
  if (start) {
    if (Date.now() - start.atMs < MIN_CPU_WINDOW_MS)
      await new Promise((r) => setTimeout(r, MIN_CPU_WINDOW_MS - (Date.now() - start.atMs)));
    const end = await cpuTicks(pid);
    const atMs = Date.now();
    if (end !== undefined) {
      const seconds = (end - start.ticks) / CLOCK_TICKS_PER_SECOND;
      s.cpuPercent = Math.max(0, (seconds / ((atMs - start.atMs) / 1000)) * 100);
      prev.set(row.id, { ticks: end, atMs });
    }
  }
  return s;
}

/** One round of samples, the containers side by side (their VMs are sampled at the same time). */
export function sampleStats(
  d: TopStatsDeps,
  rows: readonly ContainerRow[],
  prev: Map<string, CpuMark>,
): Promise<ContainerStatsSample[]> {
  return Promise.all(rows.map((r) => sampleOne(d, d.store.get(r.id) ?? r, prev)));
}

/** How often live stats are sampled (docker's is about a second). */
const ROUND_MS = 1000;

/**
 * docker stats: a round of samples, then (with `stream`) one about every second until `signal`
 * aborts. `select` names the containers of each round (with no names given they come and go).
 */
export async function* statsRounds(
  d: TopStatsDeps,
  select: () => ContainerRow[],
  stream: boolean,
  signal?: AbortSignal,
): AsyncGenerator<ContainerStatsSample[]> {
  const prev = new Map<string, CpuMark>();
  for (;;) {
    const started = Date.now();
    yield await sampleStats(d, select(), prev);
    if (!stream || signal?.aborted) return;
    const waitMs = Math.max(0, ROUND_MS - (Date.now() - started));
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      await new Promise<void>((r) => {
        timer = setTimeout(r, waitMs);
        onAbort = () => r();
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
    if (signal?.aborted) return;
  }
}
