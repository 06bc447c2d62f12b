import { spawnChild } from '../process.js';
import type { StartVmOptions, VmInstance, VmmAdapter, VmmCommand } from './adapter.js';
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
    if (spec.channels.length > 0) {
      const sock = `${spec.consoleLogPath}.vsock`;
      args.push('--vsock', `cid=3,socket=${sock}`);
    }
    args.push('--serial', `file=${spec.consoleLogPath}`, '--console', 'off');
    return { binary: this.binary, args };
  }

  async start(spec: VmSpec, opts: StartVmOptions): Promise<VmInstance> {
    const { binary, args } = this.buildCommand(spec, opts.accel);
    const child = spawnChild(binary, args, { signal: opts.signal, log: opts.log, packageHint: this.packageHint });
    let exited = false;
    const done = child.exited.then((e) => {
      exited = true;
      return e;
    });
    return {
      pid: child.pid,
      exited: done,
      state: () => (exited ? 'exited' : 'running'),
      stderrTail: () => child.stderrTail(),
      stop: () => child.stop(),
      kill: () => child.kill(),
    };
  }
}
