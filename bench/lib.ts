/** Pieces every benchmark shares: the median, and the raw-QEMU side that HYPR is compared with. */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Accelerator, QemuAdapter, type VmmCommand, encodeJob } from '../packages/core/src/index.js';
import { writeCpio } from '../packages/core/src/rootfs/initramfs.js';
import { buildBusyboxImage, writeTestOciLayout } from '../packages/core/test/helpers/busybox-image.js';
import { HYPR, HYPRD, hyprOk } from '../test/e2e/helpers.js';

/** Runs the CLI against `host` as a user types it (a new process each time) and returns its wall time in ms. */
export function timedHypr(host: string, args: string[]): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, [HYPR, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HYPR_HOST: host },
    encoding: 'utf8',
    timeout: 600_000,
  });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`hypr ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

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
  /** The VM's size (default 1 vCPU, 256 MiB); give hyprd's defaults to compare with `hypr run`. */
  cpus?: number;
  memoryMiB?: number;
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
      cpus: opts.cpus ?? 1,
      memoryMiB: opts.memoryMiB ?? 256,
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

/**
 * hyprd in a network namespace of its own (bridges, TAPs, nft rules and DNS die with it), with a
 * busybox image loaded from an OCI archive under `name`. For benchmarks that need networking, as
 * compose does; `stop()` ends hyprd and deletes the namespace.
 */
export async function startDaemonInNetns(name: string): Promise<{
  host: string;
  home: string;
  dir: string;
  log(): string;
  stop(): Promise<void>;
}> {
  const ns = `hypr-bench-${process.pid.toString(36)}`;
  const dir = mkdtempSync(join(tmpdir(), 'hypr-bench-'));
  const home = join(dir, 'home');
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  const logPath = join(dir, 'hyprd.log');
  const socket = join(dir, 'hyprd.sock');
  const fd = openSync(logPath, 'a');
  const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, HYPRD, '-H', `unix://${socket}`], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HYPR_HOME: home },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const stop = async () => {
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  while (!(existsSync(socket) && readFileSync(logPath, 'utf8').includes('hyprd listening'))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      const log = readFileSync(logPath, 'utf8');
      await stop();
      throw new Error(`hyprd did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const built = await buildBusyboxImage({ config: { Cmd: ['sh'], Env: ['PATH=/bin'] } });
  const layout = join(dir, 'layout');
  await writeTestOciLayout(layout, built);
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  index.manifests[0].annotations['io.containerd.image.name'] = name;
  await writeFile(join(layout, 'index.json'), JSON.stringify(index));
  execFileSync('tar', ['-cf', join(dir, 'image.tar'), '-C', layout, '.']);
  const host = `unix://${socket}`;
  await hyprOk({ host }, ['load', '-i', join(dir, 'image.tar')]);
  return { host, home, dir, log: () => readFileSync(logPath, 'utf8'), stop };
}
