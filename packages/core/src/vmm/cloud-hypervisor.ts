import { type StartVmOptions, type VmInstance, type VmmAdapter, type VmmCommand, startVmmProcess } from './adapter.js';
import type { Accelerator, VmSpec } from './spec.js';

/**
 * cloud-hypervisor (KVM only). Written against its documented command line; not run on the
 * machines HYPR is tested on (no usable KVM there), so only the arguments it builds are tested.
 * It has no virtio-serial: channels become vsock ports on one hybrid-vsock Unix socket
 * (the host connects to `<socket>` and writes "CONNECT <port>\n"), and shares need virtio-fs.
 */
export class CloudHypervisorAdapter implements VmmAdapter {
  readonly name = 'cloud-hypervisor' as const;
  readonly packageHint = 'cloud-hypervisor';
  constructor(readonly binary = 'cloud-hypervisor') {}

  buildCommand(spec: VmSpec, accel: Accelerator): VmmCommand {
    if (accel !== 'kvm') throw new Error('cloud-hypervisor needs KVM');
    const args = ['--kernel', spec.kernelPath];
    if (spec.initrdPath) args.push('--initramfs', spec.initrdPath);
    args.push('--cmdline', spec.cmdline);
    args.push('--cpus', `boot=${spec.cpus}`);
    const shared = spec.shares.some((s) => s.virtiofsSocket) ? ',shared=on' : '';
    args.push('--memory', `size=${spec.memoryMiB}M${shared}`);
    for (const d of spec.disks) args.push('--disk', `path=${d.path}${d.readOnly ? ',readonly=on' : ''}`);
    for (const s of spec.shares) {
      if (!s.virtiofsSocket)
        throw new Error(`cloud-hypervisor shares need virtio-fs (share ${s.tag} has no virtiofsd socket)`);
      args.push('--fs', `tag=${s.tag},socket=${s.virtiofsSocket}`);
    }
    for (const n of spec.nics) args.push('--net', `tap=${n.tap},mac=${n.mac}`);
    // Free page reporting: memory the guest does not use goes back to the host.
    args.push('--balloon', 'size=0,free_page_reporting=on');
    if (spec.channels.length > 0) {
      const sock = `${spec.consoleLogPath}.vsock`;
      args.push('--vsock', `cid=3,socket=${sock}`);
    }
    args.push('--serial', `file=${spec.consoleLogPath}`, '--console', 'off');
    return { binary: this.binary, args };
  }

  async start(spec: VmSpec, opts: StartVmOptions): Promise<VmInstance> {
    opts.log?.debug({ vmm: this.name, vm: spec.name }, 'starting hypervisor');
    return startVmmProcess(this.buildCommand(spec, opts.accel), { ...opts, packageHint: this.packageHint });
  }
}
