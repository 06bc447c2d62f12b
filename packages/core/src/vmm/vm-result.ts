/**
 * How an ended VM is told: the exit status Kestrel reported, or — when it reported none — the
 * reason, found in this order: our timeout, the caller's abort, a kernel panic on the console, a
 * hypervisor failure, and last "no exit status" with the console tail to read.
 */
import { HyprError } from '../errors.js';
import type { AcceleratorChoice } from './accel.js';
import type { VmExit } from './adapter.js';

export interface GuestVmResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Set when Kestrel could not run the program (missing binary, bad user, bad rootfs …). */
  guestError?: string;
  /** Build mode: one entry per command file that ran. */
  results: { file: string; ok: boolean; exitCode: number }[];
  accel: AcceleratorChoice;
  durationMs: number;
}

export class VmError extends HyprError {
  constructor(
    code: ConstructorParameters<typeof HyprError>[0],
    message: string,
    readonly consoleTail: string,
    hint?: string,
    options?: ErrorOptions,
  ) {
    super(code, message, hint, options);
  }
}

export function consoleTail(text: string, lines = 20): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** What the guest said on its control channel. */
export interface GuestReport {
  exitCode?: number;
  guestError?: string;
}

export interface EndedVm {
  exit: VmExit;
  report: GuestReport;
  consoleText: string;
  timedOutAfterMs?: number;
  aborted: boolean;
  hypervisor: string;
  stderrTail: string;
}

/** The result of a VM whose guest reported an exit status; otherwise the VmError saying why not. */
export function settleVm(vm: EndedVm, base: Omit<GuestVmResult, 'exitCode' | 'guestError'>): GuestVmResult {
  const { report, consoleText } = vm;
  if (report.exitCode !== undefined) return { ...base, exitCode: report.exitCode, guestError: report.guestError };
  const tail = consoleTail(consoleText);
  if (vm.timedOutAfterMs !== undefined)
    throw new VmError('VM_TIMEOUT', `the VM did not finish within ${vm.timedOutAfterMs} ms and was killed`, tail);
  if (vm.aborted) throw new VmError('VM_ABORTED', 'the VM was stopped before it finished', tail);
  const panic = consoleText.indexOf('Kernel panic');
  if (panic >= 0)
    throw new VmError(
      'VM_KERNEL_PANIC',
      `the guest kernel panicked: ${consoleText.slice(panic).split('\n')[0].trim()}`,
      tail,
    );
  if (vm.exit.code !== 0)
    throw new VmError(
      'VM_HYPERVISOR_FAILED',
      `${vm.hypervisor} failed (${vm.exit.signal ?? `exit ${vm.exit.code}`}): ${vm.stderrTail.trim() || 'no message'}`,
      tail,
    );
  throw new VmError(
    'VM_NO_EXIT_STATUS',
    `the VM ended without reporting an exit status${report.guestError ? `: ${report.guestError}` : ''}`,
    tail,
    'the console log below may say why',
  );
}
