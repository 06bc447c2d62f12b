import { spawnChild } from '../process.js';
import type { StartVmOptions, VmInstance, VmmAdapter, VmmCommand } from './adapter.js';
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
