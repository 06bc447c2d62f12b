import type { Logger } from '../log.js';
import type { Accelerator, VmSpec } from './spec.js';

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
}

export interface StartVmOptions {
  accel: Accelerator;
  signal?: AbortSignal;
  log?: Logger;
}

/** One interface for every backend: QEMU, cloud-hypervisor, vfkit. */
export interface VmmAdapter {
  readonly name: VmmName;
  /** The binary this adapter runs, and the Debian/Homebrew package that provides it. */
  readonly binary: string;
  readonly packageHint: string;
  buildCommand(spec: VmSpec, accel: Accelerator): VmmCommand;
  start(spec: VmSpec, opts: StartVmOptions): Promise<VmInstance>;
}
