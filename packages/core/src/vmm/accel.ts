import { constants, accessSync, existsSync } from 'node:fs';
import type { Accelerator } from './spec.js';

export interface AcceleratorChoice {
  accel: Accelerator;
  /** Why this accelerator: shown by `hypr-vm` and `hypr system info`. */
  reason: string;
}

export interface AcceleratorProbe {
  exists(path: string): boolean;
  canOpenReadWrite(path: string): boolean;
  platform: NodeJS.Platform;
}

const hostProbe: AcceleratorProbe = {
  exists: existsSync,
  canOpenReadWrite(path) {
    try {
      accessSync(path, constants.R_OK | constants.W_OK);
      return true;
    } catch {
      return false;
    }
  },
  platform: process.platform,
};

/**
 * KVM when it really works, else TCG. A paravirtual KVM (kvm_pvm, as on nested cloud machines)
 * exposes /dev/kvm but cannot run ordinary guest kernels: guests crawl and then fail, so it counts
 * as no KVM. HYPR_ACCEL=kvm|tcg|hvf forces a choice.
 */
export function detectAccelerator(
  env: NodeJS.ProcessEnv = process.env,
  probe: AcceleratorProbe = hostProbe,
): AcceleratorChoice {
  const forced = env.HYPR_ACCEL?.trim().toLowerCase();
  if (forced === 'kvm' || forced === 'tcg' || forced === 'hvf')
    return { accel: forced, reason: 'forced by HYPR_ACCEL' };
  if (probe.platform === 'darwin') return { accel: 'hvf', reason: 'macOS Hypervisor.framework' };
  if (!probe.exists('/dev/kvm')) return { accel: 'tcg', reason: '/dev/kvm is missing: using TCG emulation (slow)' };
  if (probe.exists('/sys/module/kvm_pvm'))
    return {
      accel: 'tcg',
      reason: '/dev/kvm is a paravirtual KVM (kvm_pvm) that cannot run ordinary guest kernels: using TCG emulation',
    };
  if (!probe.canOpenReadWrite('/dev/kvm'))
    return { accel: 'tcg', reason: 'no read/write access to /dev/kvm (join the kvm group): using TCG emulation' };
  return { accel: 'kvm', reason: '/dev/kvm is usable' };
}
