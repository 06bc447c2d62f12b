import { type StartVmOptions, type VmInstance, type VmmAdapter, type VmmCommand, startVmmProcess } from './adapter.js';
import type { Accelerator, VmSpec } from './spec.js';
import { BALLOON_ID, createQmpControl } from './vm-control.js';

/** QEMU's `microvm` machine: no PCI, no firmware, virtio-mmio devices, PVH boot of vmlinux. */
export class QemuAdapter implements VmmAdapter {
  readonly name = 'qemu' as const;
  readonly packageHint = 'qemu-system-x86';
  constructor(readonly binary = 'qemu-system-x86_64') {}

  buildCommand(spec: VmSpec, accel: Accelerator): VmmCommand {
    const args = [
      // Modern virtio-mmio: vhost-user devices (virtio-fs) refuse the legacy interface.
      '-global',
      'virtio-mmio.force-legacy=false',
      '-name',
      `hypr-${spec.name},process=hypr-${spec.name}`,
      '-M',
      'microvm,x-option-roms=off,acpi=off,isa-serial=on,rtc=off',
      '-accel',
      accel === 'kvm' ? 'kvm' : 'tcg',
      '-cpu',
      accel === 'kvm' ? 'host' : 'max',
      '-smp',
      String(spec.cpus),
      '-m',
      `${spec.memoryMiB}M`,
      '-nodefaults',
      '-no-user-config',
      '-nographic',
      '-no-reboot',
      '-kernel',
      spec.kernelPath,
    ];
    if (spec.initrdPath) args.push('-initrd', spec.initrdPath);
    // microvm appends the virtio_mmio.device= parameters for its transports itself.
    args.push('-append', `${spec.cmdline} pci=off`);
    args.push('-chardev', `file,id=console,path=${spec.consoleLogPath}`, '-serial', 'chardev:console');
    if (spec.channels.length > 0) {
      args.push('-device', `virtio-serial-device,max_ports=${Math.max(2, spec.channels.length + 1)}`);
      spec.channels.forEach((c, i) => {
        const server = c.hypervisorListens ? ',server=on,wait=off' : '';
        args.push('-chardev', `socket,id=ch${i},path=${c.socketPath}${server}`);
        args.push('-device', `virtserialport,chardev=ch${i},name=${c.name}`);
      });
    }
    spec.disks.forEach((d, i) => {
      args.push(
        '-drive',
        `id=disk${i},file=${d.path},format=${d.format ?? 'raw'},if=none${d.readOnly ? ',cache=unsafe,readonly=on' : ''}`,
      );
      args.push('-device', `virtio-blk-device,drive=disk${i}`);
    });
    spec.shares.forEach((s, i) => {
      if (s.virtiofsSocket) {
        args.push('-chardev', `socket,id=vfs${i},path=${s.virtiofsSocket}`);
        args.push('-device', `vhost-user-fs-device,chardev=vfs${i},tag=${s.tag}`);
      } else {
        args.push(
          '-fsdev',
          `local,id=fs${i},path=${s.hostPath},security_model=none${s.readOnly ? ',readonly=on' : ''}`,
        );
        args.push('-device', `virtio-9p-device,fsdev=fs${i},mount_tag=${s.tag}`);
      }
    });
    if (spec.shares.some((s) => s.virtiofsSocket)) {
      // vhost-user needs the guest RAM in shared memory.
      args.push('-object', `memory-backend-memfd,id=mem,size=${spec.memoryMiB}M,share=on`, '-numa', 'node,memdev=mem');
    }
    spec.nics.forEach((n, i) => {
      args.push('-netdev', `tap,id=net${i},ifname=${n.tap},script=no,downscript=no`);
      args.push('-device', `virtio-net-device,netdev=net${i},mac=${n.mac}`);
    });
    // Free page reporting: the guest hands pages it does not use back to the host, so the VM's
    // size is a limit, not a cost. Its statistics (memory in use) feed `hypr stats`.
    args.push('-device', `virtio-balloon-device,id=${BALLOON_ID},free-page-reporting=on`);
    if (spec.controlSocketPath) args.push('-qmp', `unix:${spec.controlSocketPath},server=on,wait=off`);
    if (spec.netns) return { binary: 'ip', args: ['netns', 'exec', spec.netns, this.binary, ...args] };
    return { binary: this.binary, args };
  }

  async start(spec: VmSpec, opts: StartVmOptions): Promise<VmInstance> {
    opts.log?.debug({ vmm: this.name, vm: spec.name }, 'starting hypervisor');
    const vm = await startVmmProcess(this.buildCommand(spec, opts.accel), { ...opts, packageHint: this.packageHint });
    if (spec.controlSocketPath) vm.control = createQmpControl(spec.controlSocketPath, spec.memoryMiB);
    return vm;
  }
}
