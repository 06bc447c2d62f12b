/**
 * The contract between a shim (vmm/shim-server.ts, run by cli/hypr-shim.ts) and its clients
 * (vmm/shim.ts): the files in the shim's directory and what travels on its socket, DIR/shim.sock —
 * one JSON object per line each way, bytes (output, stdin) in base64. A client sends requests; the
 * shim sends events — the container's output to attached clients, exec session events to the
 * client that opened the session, and the exit to everyone as the last line. The shim listens once
 * the program runs: a client that connects knows the guest booted.
 *
 *   config.json     the ShimVmConfig it runs           shim.sock   requests and events (JSON lines)
 *   state.json      ShimState: pid, vmPid, start times shim.log    the shim's own diagnostics
 *   container.log   {"log","stream","time"} per line   exit.json   ShimExit, written atomically at the end
 */
import type { GuestVmOptions } from './guest-vm.js';

/** What the shim boots: the JSON-serialisable part of GuestVmOptions. */
export type ShimVmConfig = Pick<
  GuestVmOptions,
  | 'rootfs'
  | 'argv'
  | 'workdir'
  | 'user'
  | 'hostname'
  | 'cpus'
  | 'memoryMiB'
  | 'stopGraceMs'
  | 'mounts'
  | 'stdin'
  | 'tty'
  | 'nics'
  | 'dns'
  | 'dnsSearch'
  | 'hosts'
  | 'netns'
  | 'shmSizeBytes'
  | 'privileged'
  | 'devices'
> & {
  env: string[];
  /** Persistent writable layer, created on first start (sparse ext4 of sizeMiB) and reused after. */
  writableDisk?: { path: string; sizeMiB?: number };
};

export interface ShimExit {
  /** The program's exit code (128+N when killed by signal N); 255 when the VM itself failed. */
  exitCode: number;
  /** Kestrel could not run the program (missing binary, unknown user …). */
  guestError?: string;
  /** The VM failed (hypervisor error, kernel panic …). */
  error?: string;
  finishedAt: string;
}

/**
 * Written when the shim starts (pid) and again once the program runs (vmPid). The start times (clock
 * ticks since boot, from /proc) tell these processes from later ones that reuse their pids.
 */
export interface ShimState {
  pid: number;
  pidStartTicks?: number;
  vmPid?: number;
  vmStartTicks?: number;
  startedAt: string;
}

export const SHIM_FILES = {
  config: 'config.json',
  socket: 'shim.sock',
  state: 'state.json',
  exit: 'exit.json',
  log: 'container.log',
  shimLog: 'shim.log',
} as const;

export type ShimRequest =
  | { op: 'stop'; signal?: string; graceMs?: number }
  | { op: 'kill'; signal?: string }
  | { op: 'attach' }
  | { op: 'stdin'; data: string }
  | { op: 'close-stdin' }
  | { op: 'resize'; rows: number; cols: number }
  | {
      op: 'exec';
      id: string;
      argv: string[];
      env?: string[];
      workdir?: string;
      user?: string;
      tty?: { rows: number; cols: number };
    }
  | { op: 'exec-stdin'; id: string; data: string }
  | { op: 'exec-close-stdin'; id: string }
  | { op: 'exec-resize'; id: string; rows: number; cols: number }
  | { op: 'exec-signal'; id: string; signal: string }
  /** Requests answered with a `reply` event of the same id. */
  | { op: 'pause' | 'resume' | 'is-paused' | 'stats'; id: string };

export type ShimEvent =
  | { event: 'out'; stream: 'stdout' | 'stderr'; data: string }
  | { event: 'exec-started'; id: string; pid: number }
  | { event: 'exec-out'; id: string; stream: 'stdout' | 'stderr'; data: string }
  | { event: 'exec-exit'; id: string; exitCode: number; error?: string }
  | { event: 'reply'; id: string; ok: true; result?: unknown }
  | { event: 'reply'; id: string; ok: false; error: string; code?: string }
  | ({ event: 'exit' } & ShimExit);

export function encodeShimLine(msg: ShimRequest | ShimEvent): string {
  return `${JSON.stringify(msg)}\n`;
}

/** A line from the other side, or undefined when it is not JSON (a half-written line is dropped). */
export function parseShimLine<T extends ShimRequest | ShimEvent>(line: string): T | undefined {
  try {
    const msg = JSON.parse(line) as unknown;
    return msg && typeof msg === 'object' ? (msg as T) : undefined;
  } catch {
    return undefined;
  }
}

export const toBase64 = (d: Buffer | string): string => (typeof d === 'string' ? Buffer.from(d) : d).toString('base64');
export const fromBase64 = (s: string | undefined): Buffer => Buffer.from(s ?? '', 'base64');
