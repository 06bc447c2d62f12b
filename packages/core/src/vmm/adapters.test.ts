import { describe, expect, test } from 'vitest';
import { detectAccelerator } from './accel.js';
import { guestCmdline } from './adapter.js';
import { CloudHypervisorAdapter } from './cloud-hypervisor.js';
import { guestArchOfPlatform, hostGuestArch } from './platform.js';
import { QemuAdapter, hostClockIsTsc, hostTscKhz, tcgCacheMiB, tcgX64Params, tscKhzOf } from './qemu.js';
import { chooseAdapter, selectAdapter } from './select.js';
import type { VmSpec } from './spec.js';
import { VfkitAdapter } from './vfkit.js';

const spec: VmSpec = {
  name: 'abc123',
  kernelPath: '/k/vmlinux',
  initrdPath: '/w/initrd.cpio',
  cmdline: 'console=ttyS0 quiet',
  cpus: 2,
  memoryMiB: 512,
  disks: [{ path: '/img/root.ext4', readOnly: true }],
  shares: [{ tag: 'vol0', hostPath: '/data', readOnly: false, virtiofsSocket: '/w/vfs0.sock' }],
  nics: [{ tap: 'hypr0tap', mac: '02:00:00:00:00:01' }],
  channels: [{ name: 'hypr.control', socketPath: '/w/control.sock', vsockPort: 1024 }],
  consoleLogPath: '/w/console.log',
};

const pairs = (args: string[]) =>
  args.map((a, i) => (a.startsWith('-') ? `${a} ${args[i + 1] ?? ''}` : '')).filter(Boolean);

describe('QEMU microvm command line', () => {
  test('TCG: max CPU, microvm machine, PVH kernel, no reboot', () => {
    const { binary, args } = new QemuAdapter().buildCommand(spec, 'tcg');
    expect(binary).toBe('qemu-system-x86_64');
    const p = pairs(args);
    expect(p).toContain('-accel tcg');
    expect(p).toContain('-cpu max');
    expect(p).toContain('-M microvm,x-option-roms=off,acpi=off,isa-serial=on,rtc=on');
    expect(p).toContain('-smp 2');
    expect(p).toContain('-m 512M');
    expect(p).toContain('-kernel /k/vmlinux');
    expect(p).toContain('-initrd /w/initrd.cpio');
    // The APIC timer's calibration costs a TCG boot ~240 ms; KVM keeps its TSC-deadline timer.
    expect(p).toContain(`-append console=ttyS0 quiet pci=off${tcgX64Params(hostTscKhz(), hostClockIsTsc())}`);
    expect(tcgX64Params(hostTscKhz(), hostClockIsTsc())).toMatch(
      /^ nolapic_timer noreplace-smp( tsc_early_khz=\d+ lpj=\d+( tsc=reliable)?)?$/,
    );
    expect(args).toContain('-no-reboot');
    expect(args).toContain('-nodefaults');
  });
  test("TCG guests get the host's TSC frequency where its TSC is constant, else calibrate it themselves", () => {
    const cpuinfo = (flags: string, bogomips: string) =>
      `processor\t: 0\nflags\t\t: fpu tsc ${flags} rep_good\nbogomips\t: ${bogomips}\nprocessor\t: 1\nbogomips\t: 1.00\n`;
    expect(tscKhzOf(cpuinfo('constant_tsc nonstop_tsc', '5192.26'), 'x64')).toBe(2596130);
    expect(tscKhzOf(cpuinfo('constant_tsc', '5192.26'), 'x64')).toBeUndefined();
    expect(tscKhzOf(cpuinfo('constant_tsc nonstop_tsc', '5192.26'), 'arm64')).toBeUndefined();
    expect(tscKhzOf(cpuinfo('constant_tsc nonstop_tsc', '48.00'), 'x64')).toBeUndefined();
    expect(tscKhzOf('', 'x64')).toBeUndefined();
    expect(tcgX64Params(2596130)).toBe(' nolapic_timer noreplace-smp tsc_early_khz=2596130 lpj=10384520');
    expect(tcgX64Params(undefined)).toBe(' nolapic_timer noreplace-smp');
    // The TSC is trusted across vCPUs only where the host keeps its own time with it.
    expect(tcgX64Params(2596130, true)).toBe(
      ' nolapic_timer noreplace-smp tsc_early_khz=2596130 lpj=10384520 tsc=reliable',
    );
    expect(tcgX64Params(undefined, true)).toBe(' nolapic_timer noreplace-smp');
  });
  test('HYPR_TCG_CACHE_MIB caps the translation cache; QEMU keeps its own without it', () => {
    expect(tcgCacheMiB({})).toBeUndefined();
    expect(tcgCacheMiB({ HYPR_TCG_CACHE_MIB: ' 16 ' })).toBe(16);
    const capped = new QemuAdapter({ tcgCacheMiB: tcgCacheMiB({ HYPR_TCG_CACHE_MIB: '16' }) });
    expect(pairs(capped.buildCommand(spec, 'tcg').args)).toContain('-accel tcg,tb-size=16');
    expect(pairs(capped.buildCommand(spec, 'kvm').args)).toContain('-accel kvm');
    for (const bad of ['0', '16M', '-1', '1.5'])
      expect(() => tcgCacheMiB({ HYPR_TCG_CACHE_MIB: bad })).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID', message: `HYPR_TCG_CACHE_MIB=${bad} is not a size in MiB` }),
      );
  });
  test('KVM uses the host CPU and has no translation cache to size', () => {
    const p = pairs(new QemuAdapter().buildCommand(spec, 'kvm').args);
    expect(p).toContain('-accel kvm');
    expect(p).toContain('-cpu host');
    expect(p).toContain('-append console=ttyS0 quiet pci=off');
  });
  test('devices: read-only disk, virtio-serial channel, virtio-fs share with shared memory, TAP NIC', () => {
    const p = pairs(new QemuAdapter().buildCommand(spec, 'tcg').args);
    expect(p).toContain('-drive id=disk0,file=/img/root.ext4,format=raw,if=none,cache=unsafe,readonly=on');
    expect(p).toContain('-device virtio-blk-device,drive=disk0');
    expect(p).toContain('-chardev socket,id=ch0,path=/w/control.sock');
    expect(p).toContain('-device virtserialport,chardev=ch0,name=hypr.control');
    expect(p).toContain('-device vhost-user-fs-device,chardev=vfs0,tag=vol0');
    expect(p).toContain('-object memory-backend-memfd,id=mem,size=512M,share=on');
    expect(p).toContain('-netdev tap,id=net0,ifname=hypr0tap,script=no,downscript=no');
    expect(p).toContain('-device virtio-net-device,netdev=net0,mac=02:00:00:00:00:01');
  });
  test("a writable disk is flushed to the host's disk unless it is ephemeral (run --rm)", () => {
    const drives = (disks: VmSpec['disks']) =>
      pairs(new QemuAdapter().buildCommand({ ...spec, disks }, 'tcg').args).filter((a) => a.startsWith('-drive'));
    expect(drives([{ path: '/c/rw.ext4', readOnly: false }])).toEqual([
      '-drive id=disk0,file=/c/rw.ext4,format=raw,if=none',
    ]);
    expect(drives([{ path: '/c/rw.ext4', readOnly: false, ephemeral: true }])).toEqual([
      '-drive id=disk0,file=/c/rw.ext4,format=raw,if=none,cache=unsafe',
    ]);
  });
  test('a balloon with free page reporting, and QMP when a control socket is given', () => {
    const p = pairs(new QemuAdapter().buildCommand({ ...spec, controlSocketPath: '/w/qmp.sock' }, 'tcg').args);
    expect(p).toContain('-device virtio-balloon-device,id=balloon0,free-page-reporting=on');
    expect(p).toContain('-qmp unix:/w/qmp.sock,server=on,wait=off');
    expect(new QemuAdapter().buildCommand(spec, 'tcg').args).not.toContain('-qmp');
  });
  test('a 9p share when no virtiofsd runs', () => {
    const p = pairs(
      new QemuAdapter().buildCommand({ ...spec, shares: [{ tag: 'rootfs', hostPath: '/r', readOnly: true }] }, 'tcg')
        .args,
    );
    expect(p).toContain('-fsdev local,id=fs0,path=/r,security_model=none,readonly=on');
    expect(p).toContain('-device virtio-9p-device,fsdev=fs0,mount_tag=rootfs');
  });
});

describe('QEMU virt command line for an arm64 guest', () => {
  test('qemu-system-aarch64, virt with GICv3, emulated CPU, PL011 console, the same virtio-mmio devices', () => {
    const { binary, args } = new QemuAdapter({ arch: 'arm64' }).buildCommand(spec, 'tcg');
    expect(binary).toBe('qemu-system-aarch64');
    const p = pairs(args);
    expect(p).toContain('-M virt,gic-version=3');
    expect(p).toContain('-accel tcg');
    expect(p).toContain('-cpu max,pauth-impdef=on');
    expect(p).toContain('-kernel /k/vmlinux');
    expect(p).toContain('-append console=ttyAMA0 quiet');
    expect(p).toContain('-serial chardev:console');
    expect(p).toContain('-device virtserialport,chardev=ch0,name=hypr.control');
    expect(p).toContain('-device virtio-blk-device,drive=disk0');
    expect(new QemuAdapter({ arch: 'arm64' }).packageHint).toBe('qemu-system-arm');
  });
  test("a guest of another architecture than the host's is emulated even where KVM is usable", () => {
    const foreign = hostGuestArch() === 'arm64' ? 'x64' : 'arm64';
    const p = pairs(new QemuAdapter({ arch: foreign }).buildCommand(spec, 'kvm').args);
    expect(p).toContain('-accel tcg');
  });
  test('a string is still the binary of an x86_64 QEMU', () => {
    const q = new QemuAdapter('/opt/qemu/bin/qemu-system-x86_64');
    expect([q.binary, q.arch, q.transport]).toEqual(['/opt/qemu/bin/qemu-system-x86_64', 'x64', 'virtio-serial']);
  });
});

describe('the kernel command line per backend', () => {
  test('console replaced, vsock transport added once', () => {
    expect(guestCmdline('console=ttyS0 reboot=t quiet', { console: 'hvc0', transport: 'vsock' })).toBe(
      'console=hvc0 reboot=t quiet hypr.transport=vsock',
    );
    expect(
      guestCmdline('quiet hypr.transport=vsock console=ttyS0', { console: 'ttyS0', transport: 'virtio-serial' }),
    ).toBe('console=ttyS0 quiet');
  });
});

describe('cloud-hypervisor command line (argument-tested only: needs KVM)', () => {
  test('kernel, memory shared for virtio-fs, devices and vsock', () => {
    const p = pairs(new CloudHypervisorAdapter().buildCommand(spec, 'kvm').args);
    expect(p).toEqual(
      expect.arrayContaining([
        '--kernel /k/vmlinux',
        '--initramfs /w/initrd.cpio',
        '--cmdline console=ttyS0 quiet hypr.transport=vsock',
        '--cpus boot=2',
        '--memory size=512M,shared=on',
        '--disk path=/img/root.ext4,readonly=on',
        '--fs tag=vol0,socket=/w/vfs0.sock',
        '--net tap=hypr0tap,mac=02:00:00:00:00:01',
        '--vsock cid=3,socket=/w/vsock.sock',
        '--serial file=/w/console.log',
        '--balloon size=0,free_page_reporting=on',
      ]),
    );
  });
  test('an arm64 guest logs on the PL011 UART', () => {
    const p = pairs(new CloudHypervisorAdapter(undefined, 'arm64').buildCommand(spec, 'kvm').args);
    expect(p).toContain('--cmdline console=ttyAMA0 quiet hypr.transport=vsock');
  });
  test('a network namespace runs it through ip netns exec', () => {
    const c = new CloudHypervisorAdapter().buildCommand({ ...spec, netns: 'hypr-n1' }, 'kvm');
    expect([c.binary, ...c.args.slice(0, 4)]).toEqual(['ip', 'netns', 'exec', 'hypr-n1', 'cloud-hypervisor']);
  });
  test('refuses TCG and 9p shares', () => {
    expect(() => new CloudHypervisorAdapter().buildCommand(spec, 'tcg')).toThrow(/needs KVM/);
    expect(() =>
      new CloudHypervisorAdapter().buildCommand(
        { ...spec, shares: [{ tag: 'r', hostPath: '/r', readOnly: true }] },
        'kvm',
      ),
    ).toThrow(/virtio-fs/);
  });
});

describe('vfkit command line (argument-tested only: macOS)', () => {
  test('linux bootloader, devices and vsock channels', () => {
    const p = pairs(new VfkitAdapter().buildCommand(spec, 'hvf').args);
    expect(p).toEqual(
      expect.arrayContaining([
        '--cpus 2',
        '--memory 512',
        '--bootloader linux,kernel=/k/vmlinux,initrd=/w/initrd.cpio,cmdline="console=hvc0 quiet hypr.transport=vsock"',
        '--device virtio-blk,path=/img/root.ext4,readonly',
        '--device virtio-fs,sharedDir=/data,mountTag=vol0',
        '--device virtio-vsock,port=1024,socketURL=/w/control.sock,connect',
        '--device virtio-serial,logFilePath=/w/console.log',
      ]),
    );
  });
  test('a channel the host connects to is a listening vsock socket', () => {
    const c = { name: 'hypr.x', socketPath: '/w/x.sock', vsockPort: 2000, hypervisorListens: true };
    const p = pairs(new VfkitAdapter().buildCommand({ ...spec, channels: [c] }, 'hvf').args);
    expect(p).toContain('--device virtio-vsock,port=2000,socketURL=/w/x.sock,listen');
  });
});

describe('accelerator and adapter selection', () => {
  const probe = (files: string[], rw = true, platform: NodeJS.Platform = 'linux') => ({
    exists: (p: string) => files.includes(p),
    canOpenReadWrite: () => rw,
    platform,
  });
  test('a paravirtual KVM (kvm_pvm) falls back to TCG and says why', () => {
    const c = detectAccelerator({}, probe(['/dev/kvm', '/sys/module/kvm_pvm']));
    expect(c.accel).toBe('tcg');
    expect(c.reason).toMatch(/kvm_pvm/);
  });
  test('a usable /dev/kvm gives KVM; none or no access gives TCG', () => {
    expect(detectAccelerator({}, probe(['/dev/kvm'])).accel).toBe('kvm');
    expect(detectAccelerator({}, probe([])).reason).toMatch(/missing/);
    expect(detectAccelerator({}, probe(['/dev/kvm'], false)).reason).toMatch(/kvm group/);
  });
  test('HYPR_ACCEL forces the accelerator', () => {
    expect(detectAccelerator({ HYPR_ACCEL: 'kvm' }, probe([]))).toEqual({
      accel: 'kvm',
      reason: 'forced by HYPR_ACCEL',
    });
  });
  test('adapters: QEMU without KVM, cloud-hypervisor with KVM when installed, vfkit on macOS, HYPR_VMM overrides', () => {
    expect(selectAdapter('tcg', {}, 'linux', () => true).name).toBe('qemu');
    expect(selectAdapter('kvm', {}, 'linux', () => true).name).toBe('cloud-hypervisor');
    expect(selectAdapter('kvm', {}, 'linux', () => false).name).toBe('qemu');
    expect(selectAdapter('hvf', {}, 'darwin', () => false).name).toBe('vfkit');
    expect(selectAdapter('kvm', { HYPR_VMM: 'qemu' }, 'linux', () => true).name).toBe('qemu');
    expect(() => selectAdapter('kvm', { HYPR_VMM: 'firecracker' })).toThrow(/not a hypervisor HYPR knows/);
  });
  test('each choice says why', () => {
    expect(chooseAdapter('tcg', {}, 'linux', () => true).reason).toMatch(/no usable KVM/);
    expect(chooseAdapter('kvm', {}, 'linux', () => true).reason).toMatch(/cloud-hypervisor is installed/);
    expect(chooseAdapter('kvm', { HYPR_VMM: 'qemu' }, 'linux', () => true).reason).toBe('forced by HYPR_VMM');
  });
  test('HYPR_VMM naming a hypervisor that is not installed is a HyprError naming it and how to install it', () => {
    for (const [name, install] of [
      ['cloud-hypervisor', /cloud-hypervisor\/releases/],
      ['vfkit', /brew install vfkit/],
    ] as const) {
      let err: unknown;
      try {
        chooseAdapter('kvm', { HYPR_VMM: name }, name === 'vfkit' ? 'darwin' : 'linux', () => false);
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'VMM_NOT_INSTALLED', message: expect.stringContaining(name) });
      expect((err as { hint: string }).hint).toMatch(install);
    }
  });
  test('HYPR_VMM naming a hypervisor that cannot reach Kestrel here is a HyprError saying why', () => {
    expect(() => chooseAdapter('tcg', { HYPR_VMM: 'cloud-hypervisor' }, 'linux', () => true)).toThrow(/needs KVM/);
    expect(() => chooseAdapter('kvm', { HYPR_VMM: 'vfkit' }, 'linux', () => true)).toThrow(/macOS only/);
  });
  test('a guest of another architecture gets an emulating QEMU of that architecture', () => {
    const foreign = hostGuestArch() === 'arm64' ? 'x64' : 'arm64';
    const c = chooseAdapter('kvm', {}, 'linux', () => true, foreign);
    expect([c.adapter.name, c.adapter.arch]).toEqual(['qemu', foreign]);
    expect(c.reason).toMatch(/emulates/);
    expect(() => chooseAdapter('kvm', { HYPR_VMM: 'cloud-hypervisor' }, 'linux', () => true, foreign)).toThrow(
      /cannot emulate/,
    );
  });
});

describe('guest platforms', () => {
  test('OCI platform names map to guest architectures', () => {
    expect(guestArchOfPlatform('linux/arm64')).toBe('arm64');
    expect(guestArchOfPlatform('linux/arm64/v8')).toBe('arm64');
    expect(guestArchOfPlatform('linux/amd64')).toBe('x64');
    expect(guestArchOfPlatform('arm64')).toBe('arm64');
  });
  test('a platform HYPR has no guest for is a HyprError naming it', () => {
    expect(() => guestArchOfPlatform('linux/s390x')).toThrow(/"linux\/s390x".*linux\/amd64 and linux\/arm64/);
    expect(() => guestArchOfPlatform('windows/amd64')).toThrow(/--platform/);
  });
});
