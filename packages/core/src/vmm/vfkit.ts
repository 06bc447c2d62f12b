import { type StartVmOptions, type VmInstance, type VmmAdapter, type VmmCommand, startVmmProcess } from './adapter.js';
import type { Accelerator, VmSpec } from './spec.js';

/**
 * vfkit (macOS, Apple Virtualization.framework). Written against vfkit's documented flags; it
 * cannot run on Linux, so only the arguments it builds are tested. Channels are vsock ports
 * exposed as Unix sockets, shares are virtio-fs directories served by the framework itself.
 */
export class VfkitAdapter implements VmmAdapter {
  readonly name = 'vfkit' as const;
  readonly packageHint = 'vfkit (brew install vfkit)';
  constructor(readonly binary = 'vfkit') {}

  buildCommand(spec: VmSpec, _accel: Accelerator): VmmCommand {
    const boot = [`kernel=${spec.kernelPath}`];
    if (spec.initrdPath) boot.push(`initrd=${spec.initrdPath}`);
    boot.push(`cmdline="${spec.cmdline.replace(/"/g, '\\"')}"`);
    const args = [
      '--cpus',
      String(spec.cpus),
      '--memory',
      String(spec.memoryMiB),
      '--bootloader',
      `linux,${boot.join(',')}`,
    ];
    for (const d of spec.disks) args.push('--device', `virtio-blk,path=${d.path}${d.readOnly ? ',readonly' : ''}`);
    for (const s of spec.shares) args.push('--device', `virtio-fs,sharedDir=${s.hostPath},mountTag=${s.tag}`);
    for (const n of spec.nics) args.push('--device', `virtio-net,nat,mac=${n.mac}`);
    spec.channels.forEach((c, i) => {
      const port = c.vsockPort ?? 1024 + i;
      args.push(
        '--device',
        `virtio-vsock,port=${port},socketURL=${c.socketPath}${c.hypervisorListens ? ',listen' : ',connect'}`,
      );
    });
    args.push('--device', `virtio-serial,logFilePath=${spec.consoleLogPath}`);
    return { binary: this.binary, args };
  }

  async start(spec: VmSpec, opts: StartVmOptions): Promise<VmInstance> {
    opts.log?.debug({ vmm: this.name, vm: spec.name }, 'starting hypervisor');
    return startVmmProcess(this.buildCommand(spec, opts.accel), { ...opts, packageHint: this.packageHint });
  }
}
