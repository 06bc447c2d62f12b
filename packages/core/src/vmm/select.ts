import { HyprError } from '../errors.js';
import { findExecutable } from '../process.js';
import type { VmmAdapter, VmmName } from './adapter.js';
import { CloudHypervisorAdapter } from './cloud-hypervisor.js';
import { type GuestArch, hostGuestArch } from './platform.js';
import { QemuAdapter } from './qemu.js';
import type { Accelerator } from './spec.js';
import { VfkitAdapter } from './vfkit.js';

/** On PATH, found without running anything (this runs on every container start). */
function onPath(binary: string): boolean {
  return findExecutable(binary) !== undefined;
}

const VMM_NAMES: readonly VmmName[] = ['qemu', 'cloud-hypervisor', 'vfkit'];

export function createAdapter(name: VmmName, arch: GuestArch = hostGuestArch() ?? 'x64'): VmmAdapter {
  switch (name) {
    case 'qemu':
      return new QemuAdapter({ arch });
    case 'cloud-hypervisor':
      return new CloudHypervisorAdapter(undefined, arch);
    case 'vfkit':
      return new VfkitAdapter(undefined, arch);
  }
}

/** The adapter for this host and why: `hypr system info` and preflight show the reason. */
export interface AdapterChoice {
  adapter: VmmAdapter;
  reason: string;
}

/**
 * Why ADAPTER cannot boot a guest of its architecture on this host, or undefined when it can: its
 * binary must be on PATH, and its transport must reach Kestrel (cloud-hypervisor needs KVM, vfkit
 * macOS; neither can emulate another architecture).
 */
function unusable(
  adapter: VmmAdapter,
  accel: Accelerator,
  platform: NodeJS.Platform,
  has: (binary: string) => boolean,
): { code: 'VMM_NOT_INSTALLED' | 'VMM_UNUSABLE'; message: string; hint: string } | undefined {
  if (!has(adapter.binary))
    return {
      code: 'VMM_NOT_INSTALLED',
      message: `${adapter.binary} is not installed (not on PATH)`,
      hint: `install ${adapter.packageHint}, or unset HYPR_VMM to let HYPR choose`,
    };
  const foreign = adapter.arch !== hostGuestArch();
  if (adapter.name === 'cloud-hypervisor' && (accel !== 'kvm' || foreign))
    return {
      code: 'VMM_UNUSABLE',
      message: foreign
        ? `cloud-hypervisor cannot emulate a ${adapter.arch} guest on this ${process.arch} host`
        : 'cloud-hypervisor needs KVM, and this host has no usable /dev/kvm',
      hint: 'unset HYPR_VMM to use QEMU (it also emulates, without KVM)',
    };
  if (adapter.name === 'vfkit' && (platform !== 'darwin' || foreign))
    return {
      code: 'VMM_UNUSABLE',
      message: platform !== 'darwin' ? 'vfkit runs on macOS only' : `vfkit cannot emulate a ${adapter.arch} guest`,
      hint: 'unset HYPR_VMM to use QEMU',
    };
  return undefined;
}

/**
 * The adapter for this host and a guest of ARCH (default: the host's), with the reason:
 * HYPR_VMM when set (a HyprError when that hypervisor is unknown, not installed, or cannot run here);
 * else vfkit on macOS, cloud-hypervisor on Linux with KVM when installed, QEMU otherwise (QEMU is the
 * only one that also runs without KVM, and the only one that emulates another architecture).
 */
export function chooseAdapter(
  accel: Accelerator,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  has: (binary: string) => boolean = onPath,
  arch: GuestArch = hostGuestArch() ?? 'x64',
): AdapterChoice {
  const forced = env.HYPR_VMM?.trim();
  if (forced) {
    if (!(VMM_NAMES as readonly string[]).includes(forced))
      throw new HyprError(
        'VMM_UNKNOWN',
        `HYPR_VMM=${forced} is not a hypervisor HYPR knows`,
        'use qemu, cloud-hypervisor or vfkit',
      );
    const adapter = createAdapter(forced as VmmName, arch);
    const why = unusable(adapter, accel, platform, has);
    if (why) throw new HyprError(why.code, `HYPR_VMM=${forced}: ${why.message}`, why.hint);
    return { adapter, reason: 'forced by HYPR_VMM' };
  }
  const native = arch === hostGuestArch();
  if (platform === 'darwin' && native)
    return { adapter: new VfkitAdapter(undefined, arch), reason: 'macOS: Virtualization.framework through vfkit' };
  if (accel === 'kvm' && native && has('cloud-hypervisor'))
    return {
      adapter: new CloudHypervisorAdapter(undefined, arch),
      reason: 'KVM is usable and cloud-hypervisor is installed',
    };
  const reason = !native
    ? `a ${arch} guest on a ${process.arch} host: QEMU emulates it (TCG)`
    : accel === 'kvm'
      ? 'KVM is usable; cloud-hypervisor is not installed'
      : 'no usable KVM: QEMU is the hypervisor that also runs under TCG emulation';
  return { adapter: new QemuAdapter({ arch }), reason };
}

/** chooseAdapter's adapter alone. */
export function selectAdapter(
  accel: Accelerator,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  has: (binary: string) => boolean = onPath,
  arch?: GuestArch,
): VmmAdapter {
  return chooseAdapter(accel, env, platform, has, arch).adapter;
}
