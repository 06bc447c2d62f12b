/**
 * How the orchestrator runs a container's VM. The durable runtime is core's per-container shim
 * (the VM outlives a kill -9 of hyprd); the in-process runtime boots the VM inside hyprd and is
 * used where the shim is not available. Both write the same files in the container's directory:
 * `container.log` (docker json-file lines) and `exit.json` when the VM has ended.
 */
import type { GuestMount, RootfsSource } from '@hypr/core';

/** Everything a VM needs, JSON-serialisable (the shim receives it as a file). */
export interface VmConfig {
  rootfs: RootfsSource;
  argv: string[];
  env: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  cpus?: number;
  memoryMiB?: number;
  stopGraceMs?: number;
  /** Persistent writable layer: made on first start, reused across stop/start, deleted on rm. */
  writableDisk?: { path: string; sizeMiB: number };
  /** Volumes, bind mounts and tmpfs, mounted by Kestrel before the program starts. */
  mounts?: GuestMount[];
  /** NICs on host TAPs, nameservers and /etc/hosts entries (networks.ts). */
  nics?: { tap: string; mac: string; address: string; gateway?: string }[];
  dns?: string[];
  hosts?: { name: string; address: string }[];
  /** The program's stdin comes from attached clients (-i). */
  stdin?: boolean;
  /** A pseudo-terminal of this size (-t). */
  tty?: { rows: number; cols: number };
}
export interface ExecOptions {
  argv: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  tty?: { rows: number; cols: number };
  onStdout?: (b: Buffer) => void;
  onStderr?: (b: Buffer) => void;
}

/** A program run in a running container (docker exec). */
export interface ExecSession {
  readonly started: Promise<number>;
  write(data: Buffer | string): void;
  end(): void;
  resize(rows: number, cols: number): void;
  signal(signal: string): void;
  wait(): Promise<{ exitCode: number; error?: string }>;
}

/** A live attachment to the program's stdio. */
export interface Attachment {
  write(data: Buffer | string): void;
  end(): void;
  resize(rows: number, cols: number): void;
  detach(): void;
}

export interface VmExit {
  exitCode: number;
  /** Why the program could not run (missing binary, bad user …). */
  guestError?: string;
  /** RFC 3339. */
  finishedAt: string;
  /** Why the VM failed (hypervisor error), when it did. */
  error?: string;
}

export interface VmHandle {
  readonly pid: number | undefined;
  /** The stop signal, SIGKILL after graceMs; resolves with the exit. */
  stop(signal: string, graceMs: number): Promise<VmExit>;
  kill(signal: string): void;
  wait(): Promise<VmExit>;
  /** Lets go of the VM without stopping it (daemon shutdown with a durable runtime). */
  close(): void;
  /** Runs another program in the VM; absent where the runtime cannot. */
  exec?(opts: ExecOptions): ExecSession;
  /** Live output from now on, and the program's stdin. */
  attach?(handlers: { onStdout?: (b: Buffer) => void; onStderr?: (b: Buffer) => void }): Attachment;
}

export interface ContainerRuntime {
  /** "shim" when VMs survive the daemon, "in-process" otherwise. */
  readonly name: string;
  readonly durable: boolean;
  start(dir: string, vm: VmConfig): Promise<VmHandle>;
  /** Re-attaches to the VM of `dir` after a daemon restart; undefined when it is gone. */
  adopt(dir: string): Promise<VmHandle | undefined>;
  /** The exit recorded in `dir`, if the VM has ended. */
  readExit(dir: string): VmExit | undefined;
}

export const LOG_FILE = 'container.log';
export const EXIT_FILE = 'exit.json';
