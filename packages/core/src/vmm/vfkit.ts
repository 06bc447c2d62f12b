import {
  type StartVmOptions,
  type VmInstance,
  type VmmAdapter,
  type VmmCommand,
  guestCmdline,
  startVmmProcess,
} from './adapter.js';
import type { GuestArch } from './platform.js';
import type { Accelerator, VmSpec } from './spec.js';

/**
 * vfkit (macOS, Apple Virtualization.framework), from vfkit's documented flags. It cannot run on
 * Linux, so only the arguments it builds are tested (docs/hypervisors.md says how to verify a boot
 * on a Mac). On Apple silicon it boots the arm64 guest (the uncompressed Image). Channels are vsock
 * streams the guest opens to the host: for each port vfkit connects to the channel's Unix socket
 * (`socketURL`, which the host listens on); `listen` is the other direction (vfkit listens, the host
 * connects). Shares are virtio-fs directories the framework serves itself; the kernel's console is
 * virtio-console (hvc0), kept in a log file.
 */
export class VfkitAdapter implements VmmAdapter {
  readonly name = 'vfkit' as const;
  readonly packageHint = 'vfkit (brew install vfkit)';
  readonly transport = 'vsock' as const;
  constructor(
    readonly binary = 'vfkit',
    readonly arch: GuestArch = 'arm64',
  ) {}

  buildCommand(spec: VmSpec, _accel: Accelerator): VmmCommand {
    const boot = [`kernel=${spec.kernelPath}`];
    if (spec.initrdPath) boot.push(`initrd=${spec.initrdPath}`);
    const cmdline = guestCmdline(spec.cmdline, { console: 'hvc0', transport: this.transport });
    boot.push(`cmdline="${cmdline.replace(/"/g, '\\"')}"`);
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
    args.push('--device', 'virtio-rng');
    return { binary: this.binary, args };
  }

  async start(spec: VmSpec, opts: StartVmOptions): Promise<VmInstance> {
    opts.log?.debug({ vmm: this.name, vm: spec.name }, 'starting hypervisor');
    return startVmmProcess(this.buildCommand(spec, opts.accel), { ...opts, packageHint: this.packageHint });
  }
}
