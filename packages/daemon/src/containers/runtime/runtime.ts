/**
 * How the orchestrator runs a container's VM. The durable runtime is core's per-container shim
 * (the VM outlives a kill -9 of hyprd); the in-process runtime boots the VM inside hyprd and is
 * used where the shim is not available. Both write the same files in the container's directory:
 * `container.log` (docker json-file lines) and `exit.json` when the VM has ended.
 */
import type { ShimAttachment, ShimExecOptions, ShimExecSession, ShimVmConfig } from '@hypr/core';

/**
 * Everything a VM needs, JSON-serialisable (the shim receives it as a file): core's shim config,
 * with the writable layer's size always given.
 */
export type VmConfig = ShimVmConfig & { writableDisk?: { path: string; sizeMiB: number } };
/** A program run in a running container (docker exec), and how to start one. */
export type ExecOptions = ShimExecOptions;
export type ExecSession = ShimExecSession;
/** A live attachment to the program's stdio. */
export type Attachment = ShimAttachment;

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
  /** After the exit: resolves once what held the VM (a shim) is ending; absent where nothing does. */
  gone?(): Promise<void>;
  /**
   * After the exit: true once what held the VM has ended by itself, having reaped every process it
   * started (nothing of the VM is left to look for); false when it was killed or that is not known.
   */
  endedByItself?(): Promise<boolean>;
  /** Runs another program in the VM; absent where the runtime cannot. */
  exec?(opts: ExecOptions): ExecSession;
  /** Freezes the whole VM (docker pause) and resumes it; absent where the runtime cannot. */
  pause?(): Promise<void>;
  resume?(): Promise<void>;
  /** Whether the VM is paused now (after a daemon restart, the shim knows). */
  isPaused?(): Promise<boolean>;
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
  /**
   * Ends whatever still runs for the container in `dir` — shim, hypervisor, virtiofsd — whether or
   * not this daemon holds it (SIGKILL after `graceMs`), and resolves once all of it is gone, so that
   * its TAP and address can be released. Resolves with the pids it had to kill.
   */
  release(dir: string, graceMs?: number): Promise<number[]>;
}

export const LOG_FILE = 'container.log';
export const EXIT_FILE = 'exit.json';
