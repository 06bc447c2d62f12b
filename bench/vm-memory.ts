/**
 * pnpm bench:vm-memory — host memory of an idle container (`sleep 600`), per container, with
 * BENCH_VMS (3) of each kind running at once:
 *   HYPR: core's bootGuestVm with the options hyprd gives a container (ext4 image disk, 1 GiB
 *         writable disk, 2 GiB, 1 vCPU), so QEMU's command line is the one containers get; once
 *         more with the translation cache capped at 16 MiB (HYPR_TCG_CACHE_MIB=16);
 *   (a)   `qemu-system-x86_64 -M microvm,acpi=off` (our kernel has no ACPI), QEMU's defaults otherwise: the same kernel, kestrel job and disk;
 *   (b)   the same root filesystem under podman (runc): conmon + the container's process.
 * RSS counts every page the process maps; PSS splits shared pages (QEMU's binary and libraries,
 * the kernel file QEMU keeps mapped) between the processes that map them. QEMU's memory is split by
 * mapping: guest RAM, TCG's translation cache (the only rwx mapping), other anonymous memory
 * (heap, arenas, stacks) and files. The per-container supervisor (shim) is not counted here.
 * `--record` writes docs/benchmarks.md, section "Host memory per idle container".
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeJob } from '../packages/core/src/guest/index.js';
import { writeCpio } from '../packages/core/src/rootfs/initramfs.js';
import { detectAccelerator } from '../packages/core/src/vmm/accel.js';
import { type GuestVm, bootGuestVm, guestArtifacts } from '../packages/core/src/vmm/guest-vm.js';
import { QemuAdapter } from '../packages/core/src/vmm/qemu.js';
import { createWritableDisk } from '../packages/core/src/vmm/writable-disk.js';
import { median } from './lib.js';
import { recordSection } from './record.js';

const VMS = Number(process.env.BENCH_VMS ?? 3);
/** What hyprd gives a container without --memory / --cpus (daemon.json defaults). */
const MEMORY_MIB = 2048;
const CPUS = 1;

interface Usage {
  rss: number;
  pss: number;
  guest: number;
  tcg: number;
  anon: number;
  files: number;
}

/** One process's memory in MiB, by mapping, from /proc/PID/smaps. */
function usageOf(pid: number): Usage {
  const u: Usage = { rss: 0, pss: 0, guest: 0, tcg: 0, anon: 0, files: 0 };
  for (const block of readFileSync(`/proc/${pid}/smaps`, 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\S+)\s*(.*)/.exec(block);
    if (!head) continue;
    const kb = (field: string) => Number(new RegExp(`\\n${field}:\\s+(\\d+)`).exec(block)?.[1] ?? 0) / 1024;
    const sizeMiB = (Number.parseInt(head[2], 16) - Number.parseInt(head[1], 16)) / 1048576;
    const [rss, pss] = [kb('Rss'), kb('Pss')];
    const name = head[5];
    u.rss += rss;
    u.pss += pss;
    if (sizeMiB === MEMORY_MIB) u.guest += rss;
    else if (name.startsWith('/') && head[4] !== '0') u.files += rss;
    else if (head[3] === 'rwxp') u.tcg += rss;
    else u.anon += rss;
  }
  return u;
}

const sum = (us: Usage[]): Usage =>
  us.reduce(
    (a, b) => ({
      rss: a.rss + b.rss,
      pss: a.pss + b.pss,
      guest: a.guest + b.guest,
      tcg: a.tcg + b.tcg,
      anon: a.anon + b.anon,
      files: a.files + b.files,
    }),
    { rss: 0, pss: 0, guest: 0, tcg: 0, anon: 0, files: 0 },
  );

/** Waits until the RSS of every pid has not moved for 3 s (the guest has settled), at most 60 s. */
async function settle(pids: number[]): Promise<void> {
  const total = () => pids.reduce((a, p) => a + usageOf(p).rss, 0);
  let last = -1;
  let still = 0;
  for (let i = 0; i < 60 && still < 3; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = total();
    still = Math.abs(now - last) < 0.5 ? still + 1 : 0;
    last = now;
  }
}

/** Per container: the median over the containers of each field. */
function perContainer(us: Usage[]): Usage {
  const m = (f: keyof Usage) => median(us.map((u) => u[f]));
  return { rss: m('rss'), pss: m('pss'), guest: m('guest'), tcg: m('tcg'), anon: m('anon'), files: m('files') };
}

const work = mkdtempSync(join(tmpdir(), 'hypr-bench-mem-'));
const rootfs = join(work, 'rootfs');
execFileSync('bash', ['scripts/make-busybox-rootfs.sh', rootfs]);
const disk = join(work, 'root.ext4');
execFileSync('mkfs.ext4', ['-q', '-F', '-d', rootfs, disk, '64M']);
const accel = detectAccelerator();
const { kernel, kestrel } = guestArtifacts();

/** HYPR: VMS containers as hyprd boots them (with a translation cache cap in MiB when given). */
async function measureHypr(tcgCacheMiB?: number): Promise<Usage[]> {
  const vms: GuestVm[] = [];
  try {
    for (let i = 0; i < VMS; i++) {
      const rw = join(work, `rw${i}.ext4`);
      await createWritableDisk(rw, 1024);
      const vm = await bootGuestVm({
        rootfs: { disk, type: 'ext4' },
        writableDisk: rw,
        argv: ['sleep', '600'],
        cpus: CPUS,
        memoryMiB: MEMORY_MIB,
        collectOutput: false,
        accel,
        ...(tcgCacheMiB ? { adapter: new QemuAdapter({ tcgCacheMiB }) } : {}),
      });
      vms.push(vm);
      if ((await vm.started()) === undefined) throw new Error(`HYPR VM ${i} did not start its program`);
    }
    const pids = vms.map((v) => v.pid as number);
    await settle(pids);
    return pids.map(usageOf);
  } finally {
    await Promise.all(vms.map((v) => v.destroy()));
  }
}

/** (a) What a user writes by hand: `-M microvm,acpi=off` (without it no virtio-mmio device is found), QEMU's defaults otherwise. */
async function measurePlainQemu(): Promise<Usage[]> {
  const initrd = join(work, 'initrd.cpio');
  const job = encodeJob({ argv: ['sleep', '600'], env: ['PATH=/bin'], root: '/dev/vda', rootfsType: 'ext4' });
  writeFileSync(
    initrd,
    writeCpio([
      { path: 'init', mode: 0o755, data: readFileSync(kestrel) },
      { path: 'hypr', type: 'dir' },
      { path: 'hypr/job', mode: 0o400, data: job },
    ]),
  );
  // The control channel goes to a file, to check that kestrel started the program.
  const control = (vm: number) => join(work, `control${vm}`);
  const channels = (vm: number) =>
    ['hypr.control', 'hypr.stdout', 'hypr.stderr'].flatMap((n, i) => [
      '-chardev',
      `file,id=n${i},path=${i === 0 ? control(vm) : '/dev/null'}`,
      '-device',
      `virtserialport,chardev=n${i},name=${n}`,
    ]);
  const procs: ChildProcess[] = [];
  try {
    for (let i = 0; i < VMS; i++) {
      const console = join(work, `console${i}.log`);
      const args = [
        ...['-M', 'microvm,acpi=off', '-m', `${MEMORY_MIB}M`, '-smp', String(CPUS), '-nodefaults', '-no-user-config'],
        ...['-nographic', '-kernel', kernel, '-initrd', initrd, '-append', 'console=ttyS0 quiet panic=-1'],
        ...['-serial', `file:${console}`],
        ...['-drive', `id=d0,file=${disk},format=raw,if=none,readonly=on`, '-device', 'virtio-blk-device,drive=d0'],
        ...['-device', 'virtio-serial-device,max_ports=4', ...channels(i)],
      ];
      procs.push(spawn('qemu-system-x86_64', args, { stdio: 'ignore' }));
    }
    const pids = procs.map((p) => p.pid as number);
    await settle(pids);
    procs.forEach((p, i) => {
      if (p.exitCode !== null || !readFileSync(control(i), 'utf8').includes('STARTED'))
        throw new Error(`plain QEMU ${i} did not start its program: ${readFileSync(control(i), 'utf8')}`);
    });
    return pids.map(usageOf);
  } finally {
    for (const p of procs) p.kill('SIGKILL');
  }
}

/** (b) podman with its own storage under `work` (vfs, no network): conmon + the container's process. */
function measurePodman(): { conmon: Usage[]; container: Usage[] } | string {
  const root = join(work, 'podman');
  const podman = (...args: string[]) =>
    execFileSync(
      'podman',
      [
        ...['--root', join(root, 'root'), '--runroot', join(root, 'run'), '--tmpdir', join(root, 'tmp')],
        ...['--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--runtime', 'runc'],
        ...args,
      ],
      { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], input: args[0] === 'import' ? tarOf(rootfs) : undefined },
    ).trim();
  try {
    podman('import', '-', 'localhost/hypr-bench-busybox');
    const names = Array.from({ length: VMS }, (_, i) => `hypr-bench-mem-${process.pid}-${i}`);
    try {
      // Explicit limits: podman's defaults (raised nofile/nproc) are refused where the host's are lower.
      const limits = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1000:1000'];
      for (const n of names)
        podman(
          'run',
          '-d',
          '--network',
          'none',
          ...limits,
          '--name',
          n,
          'localhost/hypr-bench-busybox',
          'sleep',
          '600',
        );
      const pids = names.map((n) =>
        podman('inspect', '-f', '{{.State.ConmonPid}} {{.State.Pid}}', n).split(' ').map(Number),
      );
      return { conmon: pids.map(([c]) => usageOf(c)), container: pids.map(([, p]) => usageOf(p)) };
    } finally {
      for (const n of names) {
        try {
          podman('rm', '-f', '-t', '0', n);
        } catch {
          /* never started */
        }
      }
    }
  } catch (e) {
    return `not measured (${String((e as { stderr?: string }).stderr ?? e).split('\n')[0]})`;
  }
}

/** conmon runs `podman container cleanup` on podman's storage after the container ends: wait for it. */
async function podmanDone(root: string): Promise<void> {
  const using = () =>
    readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .some((d) => {
        try {
          return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(root);
        } catch {
          return false;
        }
      });
  for (let i = 0; i < 100 && using(); i++) await new Promise((r) => setTimeout(r, 100));
}

function tarOf(dir: string): Buffer {
  return execFileSync('tar', ['-C', dir, '-c', '.'], { maxBuffer: 64 << 20 });
}

const CAPPED_MIB = 16;
const hypr = await measureHypr();
const capped = await measureHypr(CAPPED_MIB);
const plain = await measurePlainQemu();
const pod = measurePodman();
await podmanDone(join(work, 'podman'));
rmSync(work, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });

const f = (n: number) => `${n.toFixed(1)}`.padStart(7);
const row = (what: string, u: Usage) =>
  `${what.padEnd(34)}${f(u.rss)}${f(u.pss)}${f(u.guest)}${f(u.tcg)}${f(u.anon)}${f(u.files)}${f(u.rss - u.guest)}`;
const h = perContainer(hypr);
const p = perContainer(plain);
const lines = [
  `per idle container, MiB (median of ${VMS} running at once)     RSS    PSS  guest    TCG   anon  files  RSS-guest`,
  row('HYPR QEMU', h),
  row(`HYPR, HYPR_TCG_CACHE_MIB=${CAPPED_MIB}`, perContainer(capped)),
  row('(a) qemu -M microvm,acpi=off', p),
];
if (typeof pod === 'string') lines.push(`(b) podman + conmon                ${pod}`);
else {
  const c = perContainer(pod.conmon);
  const k = perContainer(pod.container);
  lines.push(
    row('(b) podman: conmon', c),
    row('(b) podman: the container (sleep)', k),
    row('(b) podman: both', sum([c, k])),
  );
}
const table = lines.join('\n');
const facts = `guest: ${MEMORY_MIB} MiB, ${CPUS} vCPU, busybox \`sleep 600\` on an ext4 disk; accelerator: ${accel.accel} (${accel.reason}); HYPR/raw ratio (RSS): ${(h.rss / p.rss).toFixed(2)}×; load average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`;
console.log(table);
console.log(facts);
if (process.argv.includes('--record')) {
  recordSection(
    'Host memory per idle container',
    `\`pnpm bench:vm-memory\`: ${VMS} idle containers of each kind at once, memory per container read from /proc/PID/smaps once their RSS has stopped moving. HYPR: core's \`bootGuestVm\` with the options hyprd gives a container, then the same with \`HYPR_TCG_CACHE_MIB=16\` (the per-container supervisor is not counted: see "Daemon and CLI"). (a) \`qemu-system-x86_64 -M microvm,acpi=off\` with QEMU's defaults otherwise (1 GiB translation cache, no balloon) and the same kernel, kestrel job and disk. (b) podman with runc (crun refuses this machine's hybrid cgroups), vfs storage, \`--network none\`: conmon plus the container's process. Columns: RSS; PSS (pages shared between processes split among them); of RSS, guest RAM, TCG's translation cache, QEMU's other anonymous memory, mapped files; RSS minus guest RAM (what the host spends besides the guest).\n\n\`\`\`\n${table}\n\`\`\`\n\n${facts}.`,
  );
}
process.exit(0);
