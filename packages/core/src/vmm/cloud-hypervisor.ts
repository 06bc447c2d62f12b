import { dirname, join } from 'node:path';
import { HyprError } from '../errors.js';
import {
  type StartVmOptions,
  type VmInstance,
  type VmmAdapter,
  type VmmCommand,
  guestCmdline,
  startVmmProcess,
} from './adapter.js';
import { linkHybridVsockChannels } from './hybrid-vsock.js';
import type { GuestArch } from './platform.js';
import type { Accelerator, VmSpec } from './spec.js';

/** The guest CID cloud-hypervisor gives the VM (any value ≥ 3: each VM has its own vsock device). */
export const CLOUD_HYPERVISOR_CID = 3;

/**
 * cloud-hypervisor (KVM only), from its documented command line; not run on the machines HYPR is
 * tested on (no usable KVM there), so the arguments it builds and the hybrid-vsock plumbing are
 * tested, not a boot (docs/hypervisors.md says how to verify one). It has no virtio-serial:
 * Kestrel's channels are vsock streams the guest opens to the host, which cloud-hypervisor hands
 * to `<vsock socket>_<port>` (linked to each channel's socket); shares need virtio-fs.
 * x86_64 boots the PVH vmlinux with the kernel on ttyS0; arm64 the Image with it on ttyAMA0.
 */
export class CloudHypervisorAdapter implements VmmAdapter {
  readonly name = 'cloud-hypervisor' as const;
  readonly packageHint =
    'cloud-hypervisor (a static binary from github.com/cloud-hypervisor/cloud-hypervisor/releases)';
  readonly transport = 'vsock' as const;
  constructor(
    readonly binary = 'cloud-hypervisor',
    readonly arch: GuestArch = 'x64',
  ) {}

  /** The hybrid-vsock Unix socket of a VM: in its work directory, beside the channel sockets. */
  static vsockSocket(spec: VmSpec): string {
    return join(dirname(spec.consoleLogPath), 'vsock.sock');
  }

  buildCommand(spec: VmSpec, accel: Accelerator): VmmCommand {
    if (accel !== 'kvm')
      throw new HyprError(
        'VMM_UNUSABLE',
        'cloud-hypervisor needs KVM, and this host has no usable /dev/kvm',
        'unset HYPR_VMM to use QEMU (it also runs without KVM)',
      );
    const console = this.arch === 'arm64' ? 'ttyAMA0' : 'ttyS0';
    const args = ['--kernel', spec.kernelPath];
    if (spec.initrdPath) args.push('--initramfs', spec.initrdPath);
    args.push('--cmdline', guestCmdline(spec.cmdline, { console, transport: this.transport }));
    args.push('--cpus', `boot=${spec.cpus}`);
    const shared = spec.shares.some((s) => s.virtiofsSocket) ? ',shared=on' : '';
    args.push('--memory', `size=${spec.memoryMiB}M${shared}`);
    for (const d of spec.disks) args.push('--disk', `path=${d.path}${d.readOnly ? ',readonly=on' : ''}`);
    for (const s of spec.shares) {
      if (!s.virtiofsSocket)
        throw new HyprError(
          'VMM_UNUSABLE',
          `cloud-hypervisor shares need virtio-fs: share ${s.tag} (${s.hostPath}) has no virtiofsd socket`,
          'install virtiofsd',
        );
      args.push('--fs', `tag=${s.tag},socket=${s.virtiofsSocket}`);
    }
    for (const n of spec.nics) args.push('--net', `tap=${n.tap},mac=${n.mac}`);
    // Free page reporting: memory the guest does not use goes back to the host.
    args.push('--balloon', 'size=0,free_page_reporting=on');
    if (spec.channels.length > 0)
      args.push('--vsock', `cid=${CLOUD_HYPERVISOR_CID},socket=${CloudHypervisorAdapter.vsockSocket(spec)}`);
    args.push('--serial', `file=${spec.consoleLogPath}`, '--console', 'off');
    if (spec.netns) return { binary: 'ip', args: ['netns', 'exec', spec.netns, this.binary, ...args] };
    return { binary: this.binary, args };
  }

  /** Links each channel's socket where hybrid vsock hands the guest's connections (`<vsock socket>_<port>`). */
  async prepare(spec: VmSpec): Promise<void> {
    await linkHybridVsockChannels(CloudHypervisorAdapter.vsockSocket(spec), spec.channels);
  }

  async start(spec: VmSpec, opts: StartVmOptions): Promise<VmInstance> {
    opts.log?.debug({ vmm: this.name, vm: spec.name }, 'starting hypervisor');
    const command = this.buildCommand(spec, opts.accel);
    await this.prepare(spec);
    return startVmmProcess(command, { ...opts, packageHint: this.packageHint });
  }
}
