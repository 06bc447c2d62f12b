/** Pieces every benchmark shares: the median, and the raw-QEMU side that HYPR is compared with. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Accelerator, QemuAdapter, type VmmCommand, encodeJob } from '../packages/core/src/index.js';
import { writeCpio } from '../packages/core/src/rootfs/initramfs.js';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * The hypervisor alone, as a user would run it: `qemu-system-x86_64 -M microvm` with the same
 * kernel, a prebuilt kestrel initramfs whose job runs `true`, and the three channels written to
 * /dev/null (no sockets, no marker parsing). Files go into `work`.
 */
export function rawQemuTrue(opts: {
  kernel: string;
  kestrel: string;
  accel: Accelerator;
  work: string;
  root: { dir: string } | { disk: string };
}): VmmCommand {
  const initrd = join(opts.work, 'initrd.cpio');
  const job =
    'dir' in opts.root
      ? encodeJob({ argv: ['true'], env: [], root: '9p:rootfs' })
      : encodeJob({ argv: ['true'], env: ['PATH=/bin'], root: '/dev/vda', rootfsType: 'ext4' });
  writeFileSync(
    initrd,
    writeCpio([
      { path: 'init', mode: 0o755, data: readFileSync(opts.kestrel) },
      { path: 'hypr', type: 'dir' },
      { path: 'hypr/job', mode: 0o400, data: job },
    ]),
  );
  const raw = new QemuAdapter().buildCommand(
    {
      name: 'bench',
      kernelPath: opts.kernel,
      initrdPath: initrd,
      cmdline: 'console=ttyS0 reboot=t panic=-1 quiet',
      cpus: 1,
      memoryMiB: 256,
      disks: 'disk' in opts.root ? [{ path: opts.root.disk, readOnly: true }] : [],
      shares: 'dir' in opts.root ? [{ tag: 'rootfs', hostPath: opts.root.dir, readOnly: true }] : [],
      nics: [],
      channels: [],
      consoleLogPath: join(opts.work, 'console.log'),
    },
    opts.accel,
  );
  const channels = ['hypr.control', 'hypr.stdout', 'hypr.stderr'].flatMap((n, i) => [
    '-chardev',
    `file,id=n${i},path=/dev/null`,
    '-device',
    `virtserialport,chardev=n${i},name=${n}`,
  ]);
  return { binary: raw.binary, args: [...raw.args, '-device', 'virtio-serial-device,max_ports=4', ...channels] };
}
