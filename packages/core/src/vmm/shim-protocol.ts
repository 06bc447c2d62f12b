/**
 * The contract between a shim (shim/hypr-shim.c, a small static C program) and its client
 * (vmm/shim.ts), written down in shim/PROTOCOL.md: the files in the container's directory, what
 * `shim.args` tells the shim to run, and the frames on its socket.
 */
import type { GuestVmOptions, PreparedGuestVm } from './guest-vm.js';

/** What the shim boots: the JSON-serialisable part of GuestVmOptions (kept in config.json). */
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
  | 'ephemeralLayer'
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
 * Written when the shim starts (pid) and again once the hypervisor runs (vmPid). The start times
 * (clock ticks since boot, from /proc) tell these processes from later ones that reuse their pids.
 */
export interface ShimState {
  pid: number;
  pidStartTicks?: number;
  vmPid?: number;
  vmStartTicks?: number;
  startedAt: string;
}

export const SHIM_FILES = {
  args: 'shim.args',
  config: 'config.json',
  socket: 'shim.sock',
  state: 'state.json',
  exit: 'exit.json',
  log: 'container.log',
  shimLog: 'shim.log',
  /** The VM's own files: initramfs, channel sockets, console log, QMP socket, the hypervisor's log. */
  vm: 'vm',
} as const;

/** Client → shim frame types (besides the exec frames O I C R S). */
export const TO_SHIM = { attach: 'a', stdin: 'i', closeStdin: 'c', control: 'k', stop: 't' } as const;
/** Shim → client frame types (besides the exec frames P o e E x). */
export const FROM_SHIM = { up: 'U', stdout: '1', stderr: '2', exit: 'X' } as const;

/** shim.args: what the shim runs, as NUL-terminated `K=value` records (shim/PROTOCOL.md). */
export function encodeShimArgs(
  vm: Pick<PreparedGuestVm, 'adapter' | 'command' | 'helpers' | 'spec'>,
  o: { vmmLog: string; stopGraceMs?: number; keepEarlyOutput?: boolean },
): Buffer {
  const records: string[] = [`V=${vm.command.binary}`, ...vm.command.args.map((a) => `v=${a}`)];
  records.push(`H=${o.vmmLog}`, `K=${vm.spec.consoleLogPath}`, `N=${vm.adapter.binary}`);
  for (const h of vm.helpers) records.push(`F=${h.binary}`, ...h.args.map((a) => `f=${a}`), `w=${h.socket}`);
  for (const c of vm.spec.channels) records.push(`c=${c.name.replace(/^hypr\./, '')}\t${c.socketPath}`);
  if (o.stopGraceMs !== undefined) records.push(`G=${Math.max(0, Math.round(o.stopGraceMs))}`);
  if (o.keepEarlyOutput) records.push('B=1');
  for (const r of records)
    if (r.includes('\0')) throw new Error(`a shim argument holds a NUL byte: ${JSON.stringify(r.slice(0, 80))}`);
  return Buffer.from(records.map((r) => `${r}\0`).join(''), 'utf8');
}
