import { readFileSync } from 'node:fs';
import { HyprError } from '../errors.js';
import {
  type StartVmOptions,
  type VmInstance,
  type VmmAdapter,
  type VmmCommand,
  guestCmdline,
  startVmmProcess,
} from './adapter.js';
import { type GuestArch, hostGuestArch } from './platform.js';
import type { Accelerator, VmSpec } from './spec.js';
import { BALLOON_ID, createQmpControl } from './vm-control.js';

/** Per guest architecture: the binary, its Debian package, the machine and the serial console. */
const ARCHES = {
  x64: {
    binary: 'qemu-system-x86_64',
    packageHint: 'qemu-system-x86',
    // No PCI, no firmware, virtio-mmio devices, PVH boot of vmlinux. The CMOS RTC stays: without it
    // Linux (no kvmclock under TCG) polls the missing clock's update bit for its full 1 s timeout at
    // boot ("Unable to read current time from RTC") whenever its TSC calibration succeeded, which
    // was every other boot here: 1.0–1.3 s with the RTC, 2.0–2.4 s without (docs/benchmarks.md).
    machine: 'microvm,x-option-roms=off,acpi=off,isa-serial=on,rtc=on',
    console: 'ttyS0',
  },
  arm64: {
    binary: 'qemu-system-aarch64',
    packageHint: 'qemu-system-arm',
    // `virt`: device tree, PL011 UART, 32 virtio-mmio transports (the same -device …-device list as
    // microvm); GICv3 so more than 8 vCPUs boot; the arm64 Image boots directly (no firmware).
    machine: 'virt,gic-version=3',
    console: 'ttyAMA0',
  },
} as const;

/**
 * Kernel parameters of an x86 guest under TCG. nolapic_timer: the emulated CPU has no TSC frequency
 * the guest can learn, so Linux measured the local APIC timer against PIT ticks before it started
 * the first program: 230–250 ms of every boot here. Without the APIC timer the PIT is the clock
 * event (broadcast to the other vCPUs of an SMP guest): raw QEMU boots of the same kernel and job
 * took 0.60–0.93 s against 0.85–1.25 s (docs/benchmarks.md, VM boot). tsc_early_khz: TCG's guest
 * TSC is the host's (QEMU reads it with rdtsc), so its frequency is the host's; given it, the guest
 * skips its PIT calibration of the TSC, which failed in some boots here and then cost a delay-loop
 * calibration (~60 ms) and a jiffies clock that loses ticks. noreplace-smp: a 1-vCPU guest otherwise
 * rewrites the kernel's ~6,000 LOCK prefixes one text_poke (a page-table switch and TLB flush) at a
 * time, 130–140 ms under TCG by the guest's own clock, to save a few cycles per atomic operation.
 * Not under KVM: there the TSC-deadline timer and kvmclock need no calibration, the PIT would cost
 * exits, and the LOCK rewrite is cheap. tsc=reliable, where the host's own clock is its TSC: TCG's
 * vCPUs all read that one TSC, but Linux trusts no TSC across CPUs of an AMD-branded CPU (TCG's is),
 * so a guest of 2 or more vCPUs ran on the jiffies clock (4 ms steps, slow when ticks are lost).
 * lpj: the delay loop's TSC cycles per tick, which the boot CPU takes from tsc_early_khz but every
 * other vCPU measured against the jiffies again (~65 ms per boot of a 2-vCPU guest).
 */
export function tcgX64Params(tscKhz: number | undefined, hostClockIsTsc = false): string {
  if (!tscKhz) return ' nolapic_timer noreplace-smp';
  const lpj = Math.floor((tscKhz * 1000) / GUEST_HZ);
  return ` nolapic_timer noreplace-smp tsc_early_khz=${tscKhz} lpj=${lpj}${hostClockIsTsc ? ' tsc=reliable' : ''}`;
}

/** The guest kernel's timer frequency (CONFIG_HZ_250 in guest/kernel/hypr.config): lpj is TSC cycles per tick. */
const GUEST_HZ = 250;

let hostTsc: { khz: number | undefined; clock: boolean } | undefined;

function readHostTsc(): { khz: number | undefined; clock: boolean } {
  if (process.arch !== 'x64') return { khz: undefined, clock: false };
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return ''; // no /proc or /sys: the guest calibrates and checks its TSC itself
    }
  };
  return {
    khz: tscKhzOf(read('/proc/cpuinfo')),
    clock: read('/sys/devices/system/clocksource/clocksource0/current_clocksource').trim() === 'tsc',
  };
}

/** The host's TSC frequency in kHz (tscKhzOf of this host's /proc/cpuinfo), read once. */
export function hostTscKhz(): number | undefined {
  hostTsc ??= readHostTsc();
  return hostTsc.khz;
}

/** Whether the host's kernel keeps time with its TSC (it found the TSC synchronized across its CPUs). */
export function hostClockIsTsc(): boolean {
  hostTsc ??= readHostTsc();
  return hostTsc.clock;
}

/**
 * The TSC frequency in kHz of an x86_64 host whose TSC ticks at one rate in every state
 * (`constant_tsc`, `nonstop_tsc`), from its /proc/cpuinfo: Linux sets the delay loop from the TSC
 * there, so `bogomips` is twice its MHz (5192.26 for 2596.134 MHz: 1.5 ppm off). Undefined where
 * that does not hold: the guest then calibrates for itself, as before.
 */
export function tscKhzOf(cpuinfo: string, arch: string = process.arch): number | undefined {
  if (arch !== 'x64') return undefined;
  const flags = new Set(/^flags\s*:(.*)$/m.exec(cpuinfo)?.[1].trim().split(/\s+/));
  const bogomips = Number(/^bogomips\s*:\s*([\d.]+)$/m.exec(cpuinfo)?.[1]);
  if (!flags.has('constant_tsc') || !flags.has('nonstop_tsc') || !(bogomips > 200 && bogomips < 20000))
    return undefined;
  return Math.round(bogomips * 500);
}

/**
 * The cap on TCG's translation cache, in MiB: HYPR_TCG_CACHE_MIB when set, else none (QEMU 7.2's
 * own: 1 GiB reserved, of which what the guest has translated stays resident: 29 MiB after a boot,
 * 95 MiB after a Node program). A cap below that saves memory and costs CPU: with 16, an idle
 * guest holds 17 MiB less, but a Node program retranslates its code 15 times and takes 16–29 %
 * more CPU time (docs/vm.md, "Host memory per container"), so the default is QEMU's.
 */
export function tcgCacheMiB(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env.HYPR_TCG_CACHE_MIB?.trim();
  if (!v) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1)
    throw new HyprError(
      'CONFIG_INVALID',
      `HYPR_TCG_CACHE_MIB=${v} is not a size in MiB`,
      "give a whole number of MiB such as 16, or unset it for QEMU's default",
    );
  return Number(v);
}

/**
 * QEMU: `microvm` for x86_64 guests, `virt` for arm64 guests. A guest of another architecture than
 * the host's runs under TCG (emulated), whatever the host's accelerator.
 */
export class QemuAdapter implements VmmAdapter {
  readonly name = 'qemu' as const;
  readonly transport = 'virtio-serial' as const;
  readonly arch: GuestArch;
  readonly binary: string;
  readonly packageHint: string;

  /** TCG's translation cache cap in MiB (tcgCacheMiB), or undefined for QEMU's default. */
  readonly tcgCacheMiB: number | undefined;

  /**
   * A string is the binary (x86_64 guests), as before; or the guest architecture, an optional
   * binary and the translation cache cap (default: HYPR_TCG_CACHE_MIB).
   */
  constructor(o: string | { arch?: GuestArch; binary?: string; tcgCacheMiB?: number } = {}) {
    const { arch = 'x64', binary, tcgCacheMiB: cache = tcgCacheMiB() } = typeof o === 'string' ? { binary: o } : o;
    this.arch = arch;
    this.tcgCacheMiB = cache;
    this.binary = binary ?? ARCHES[arch].binary;
    this.packageHint = ARCHES[arch].packageHint;
  }

  buildCommand(spec: VmSpec, hostAccel: Accelerator): VmmCommand {
    const a = ARCHES[this.arch];
    const accel = this.arch === hostGuestArch() ? hostAccel : 'tcg';
    const cpu = accel === 'kvm' ? 'host' : this.arch === 'arm64' ? 'max,pauth-impdef=on' : 'max';
    const args = [
      // Modern virtio-mmio: vhost-user devices (virtio-fs) refuse the legacy interface.
      '-global',
      'virtio-mmio.force-legacy=false',
      '-name',
      `hypr-${spec.name},process=hypr-${spec.name}`,
      '-M',
      a.machine,
      '-accel',
      accel === 'kvm' ? 'kvm' : this.tcgCacheMiB ? `tcg,tb-size=${this.tcgCacheMiB}` : 'tcg',
      '-cpu',
      cpu,
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
    // microvm appends the virtio_mmio.device= parameters for its transports itself; virt's are in
    // its device tree. pci=off: microvm has no PCI (x86 only: arm64 has no such parameter).
    const cmdline = guestCmdline(spec.cmdline, { console: a.console, transport: this.transport });
    args.push(
      '-append',
      this.arch === 'x64'
        ? `${cmdline} pci=off${accel === 'tcg' ? tcgX64Params(hostTscKhz(), hostClockIsTsc()) : ''}`
        : cmdline,
    );
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
      // cache=unsafe: QEMU drops the guest's flushes (and its own at exit), so they cost no host
      // fsync. Right for a disk nothing writes (read-only) or nothing reads after the VM (ephemeral);
      // another writable disk keeps the default (writeback), so a guest flush reaches the host's disk.
      const cache = d.readOnly ? ',cache=unsafe,readonly=on' : d.ephemeral ? ',cache=unsafe' : '';
      args.push('-drive', `id=disk${i},file=${d.path},format=${d.format ?? 'raw'},if=none${cache}`);
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
