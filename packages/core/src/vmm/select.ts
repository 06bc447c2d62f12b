import { execFileSync } from 'node:child_process';
import { HyprError } from '../errors.js';
import type { VmmAdapter, VmmName } from './adapter.js';
import { CloudHypervisorAdapter } from './cloud-hypervisor.js';
import { QemuAdapter } from './qemu.js';
import type { Accelerator } from './spec.js';
import { VfkitAdapter } from './vfkit.js';

function onPath(binary: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function createAdapter(name: VmmName): VmmAdapter {
  switch (name) {
    case 'qemu':
      return new QemuAdapter();
    case 'cloud-hypervisor':
      return new CloudHypervisorAdapter();
    case 'vfkit':
      return new VfkitAdapter();
  }
}

/**
 * The adapter for this host: HYPR_VMM when set, vfkit on macOS, cloud-hypervisor on Linux with KVM
 * when installed, QEMU otherwise (QEMU is the only one that also runs without KVM).
 */
export function selectAdapter(
  accel: Accelerator,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  has: (binary: string) => boolean = onPath,
): VmmAdapter {
  const forced = env.HYPR_VMM?.trim();
  if (forced) {
    if (forced !== 'qemu' && forced !== 'cloud-hypervisor' && forced !== 'vfkit')
      throw new HyprError(
        'VMM_UNKNOWN',
        `HYPR_VMM=${forced} is not a hypervisor HYPR knows`,
        'use qemu, cloud-hypervisor or vfkit',
      );
    return createAdapter(forced);
  }
  if (platform === 'darwin') return new VfkitAdapter();
  if (accel === 'kvm' && has('cloud-hypervisor')) return new CloudHypervisorAdapter();
  return new QemuAdapter();
}
