import type { Logger } from '../log.js';
import { spawnChild } from '../process.js';
import type { GuestArch } from './platform.js';
import type { Accelerator, VmSpec } from './spec.js';
import type { VmControl } from './vm-control.js';

export type VmmName = 'qemu' | 'cloud-hypervisor' | 'vfkit';

/** A hypervisor command line, built from a VmSpec without side effects (so it can be tested anywhere). */
export interface VmmCommand {
  binary: string;
  args: string[];
}

export interface VmExit {
  /** The hypervisor's own exit status (not the workload's: that arrives on the control channel). */
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type VmState = 'running' | 'exited';

export interface VmInstance {
  readonly pid: number | undefined;
  readonly exited: Promise<VmExit>;
  state(): VmState;
  /** Last lines the hypervisor wrote on stderr, for error messages. */
  stderrTail(): string;
  /** Ends the hypervisor: SIGTERM, then SIGKILL after the grace. Idempotent. */
  stop(): Promise<VmExit>;
  kill(): void;
  /** Pause, resume and statistics, where the backend offers them (QEMU). */
  control?: VmControl;
}

export interface StartVmOptions {
  accel: Accelerator;
  signal?: AbortSignal;
  log?: Logger;
}

/**
 * How Kestrel's channels reach the host (guest/PROTOCOL.md, "Transports"): virtio-serial ports
 * (QEMU), or vsock streams the guest opens to the host, which the hypervisor hands to a Unix socket
 * per port (cloud-hypervisor's and Firecracker's hybrid vsock, vfkit's socketURL).
 */
export type VmTransport = 'virtio-serial' | 'vsock';

/** One interface for every backend: QEMU, cloud-hypervisor, vfkit. */
export interface VmmAdapter {
  readonly name: VmmName;
  /** The binary this adapter runs, and the Debian/Homebrew package that provides it. */
  readonly binary: string;
  readonly packageHint: string;
  /** The guest architecture this adapter boots. */
  readonly arch: GuestArch;
  readonly transport: VmTransport;
  buildCommand(spec: VmSpec, accel: Accelerator): VmmCommand;
  /** What must exist on the host before buildCommand's command runs (cloud-hypervisor's vsock links). */
  prepare?(spec: VmSpec): Promise<void>;
  /** Prepares, then runs the hypervisor in this process. */
  start(spec: VmSpec, opts: StartVmOptions): Promise<VmInstance>;
}

/**
 * The kernel command line for one backend: the guest's `console=` replaced by the console this
 * hypervisor gives the architecture (ttyS0, ttyAMA0, hvc0), and `hypr.transport=vsock` added when
 * Kestrel's channels are vsock streams (Kestrel reads it from /proc/cmdline).
 */
export function guestCmdline(cmdline: string, o: { console: string; transport: VmTransport }): string {
  const words = cmdline.split(/\s+/).filter((w) => w && !w.startsWith('console=') && !w.startsWith('hypr.transport='));
  words.unshift(`console=${o.console}`);
  if (o.transport === 'vsock') words.push('hypr.transport=vsock');
  return words.join(' ');
}

/**
 * Runs a hypervisor command as a VmInstance: own process group, stderr tail kept, SIGTERM then
 * SIGKILL on stop. A binary that cannot start rejects here, not as a hung VM.
 */
export async function startVmmProcess(
  command: VmmCommand,
  opts: StartVmOptions & { packageHint: string; killAfterMs?: number },
): Promise<VmInstance> {
  const child = spawnChild(command.binary, command.args, {
    signal: opts.signal,
    killAfterMs: opts.killAfterMs ?? 2000,
    log: opts.log,
    packageHint: opts.packageHint,
  });
  let exited = false;
  const done = child.exited.then((e) => {
    exited = true;
    return e;
  });
  await Promise.race([done, new Promise((r) => setImmediate(r))]);
  return {
    pid: child.pid,
    exited: done,
    state: () => (exited ? 'exited' : 'running'),
    stderrTail: () => child.stderrTail(),
    stop: () => child.stop(),
    kill: () => child.kill(),
  };
}
