/**
 * pnpm bench:vm-memory — host memory of an idle container (`sleep 600`), per container, with
 * BENCH_VMS (3) of each kind running at once:
 *   HYPR: core's startShim with the options hyprd gives a container (ext4 image disk, 1 GiB
 *         writable disk, 2 GiB, 1 vCPU): hypr-shim runs QEMU with the command line and the
 *         environment containers get; then with HYPR_VMM_THP=off and with HYPR_TCG_CACHE_MIB=16
 *         in hyprd's environment (both opt-in);
 *   (a)   `qemu-system-x86_64 -M microvm,acpi=off` (our kernel has no ACPI), QEMU's defaults otherwise: the same kernel, kestrel job and disk;
 *   (b)   the same root filesystem under podman (runc): conmon + the container's process.
 * RSS counts every page the process maps; PSS splits shared pages (QEMU's binary and libraries,
 * the kernel file QEMU keeps mapped) between the processes that map them. QEMU's memory is split by
 * mapping: guest RAM, TCG's translation cache (the only rwx mapping), other anonymous memory
 * (heap, arenas, stacks) and files. The supervisor (hypr-shim, conmon) has a row of its own.
 * `--speed`: also the CPU time QEMU takes to boot to the program and to run a busybox program,
 * by default and with HYPR_VMM_THP=off, BENCH_SPEED_RUNS (5) interleaved pairs.
 * `--record` writes docs/benchmarks.md, section "Host memory per idle container".
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { encodeJob } from '../packages/core/src/guest/index.js';
import { writeCpio } from '../packages/core/src/rootfs/initramfs.js';
import { detectAccelerator } from '../packages/core/src/vmm/accel.js';
import { guestArtifacts } from '../packages/core/src/vmm/guest-vm.js';
import { type ShimClient, startShim } from '../packages/core/src/vmm/shim.js';
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

/** Runs `f` with `env` in this process's environment, which hyprd's shims inherit (HYPR_*). */
async function withEnv<T>(env: Record<string, string>, f: () => Promise<T>): Promise<T> {
  const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, env);
  try {
    return await f();
  } finally {
    for (const [k, v] of saved) v === undefined ? delete process.env[k] : (process.env[k] = v);
  }
}

let containers = 0;

/** One container as hyprd starts it (its VM config, through hypr-shim), running `argv`. */
function startContainer(argv: string[]): Promise<ShimClient> {
  const dir = join(work, `c${containers++}`);
  return startShim({
    dir,
    vm: {
      rootfs: { disk, type: 'ext4' },
      writableDisk: { path: join(dir, 'rw.ext4'), sizeMiB: 1024 },
      argv,
      env: ['PATH=/bin'],
      cpus: CPUS,
      memoryMiB: MEMORY_MIB,
    },
  });
}

/** `pid`, once it is QEMU's: a wrapper script first on PATH would make the figures a shell's. */
function checkQemu(pid: number, what: string): number {
  const exe = readlinkSync(`/proc/${pid}/exe`);
  if (!basename(exe).startsWith('qemu-system'))
    throw new Error(`the hypervisor of ${what} is ${exe}, not QEMU: is a wrapper script first on PATH?`);
  return pid;
}

const qemuPid = (c: ShimClient) => checkQemu(c.state.vmPid as number, c.dir);

/** HYPR: VMS containers at once, as hyprd runs them, with `env` in hyprd's environment. */
async function measureHypr(env: Record<string, string> = {}): Promise<{ vm: Usage[]; shim: Usage[] }> {
  return withEnv(env, async () => {
    const shims: ShimClient[] = [];
    try {
      for (let i = 0; i < VMS; i++) shims.push(await startContainer(['sleep', '600']));
      const pids = shims.map(qemuPid);
      await settle(pids);
      return { vm: pids.map(usageOf), shim: shims.map((c) => usageOf(c.state.pid)) };
    } finally {
      await Promise.all(shims.map((c) => c.stop('SIGKILL', 0).catch(() => undefined)));
    }
  });
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
    const pids = procs.map((p, i) => checkQemu(p.pid as number, `plain QEMU ${i}`));
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

/** QEMU's CPU time (user + system) in seconds and its minor page faults so far, from /proc/PID/stat. */
function cpuOf(pid: number): { cpuS: number; faults: number } {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // After the command name: field 3 is f[0], so minflt (10) is f[7], utime (14) f[11], stime (15) f[12].
  return { cpuS: (Number(f[11]) + Number(f[12])) / 100, faults: Number(f[7]) };
}

/** A busybox program that translates and touches memory: compression, hashing, tmpfs, awk, a shell loop. */
const PROGRAM = [
  'head -c 16777216 /dev/urandom | gzip -1 | gzip -dc | sha256sum',
  'dd if=/dev/zero of=/dev/shm/z bs=1M count=256 2>/dev/null; sha256sum /dev/shm/z; rm /dev/shm/z',
  'awk "BEGIN{for(i=0;i<100000;i++){x=sprintf(\\"%d-%x\\",i,i*3); n+=length(x); s+=split(x,a,\\"-\\")}; print n, s}"',
  'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done',
  'echo hypr-bench-done; exec sleep 600',
].join('; ');

interface Speed {
  bootS: number;
  bootFaults: number;
  programS: number;
}

/** One container running PROGRAM: QEMU's CPU time to reach the program, then to run it. */
async function timeHypr(env: Record<string, string>): Promise<Speed> {
  return withEnv(env, async () => {
    const c = await startContainer(['sh', '-c', PROGRAM]);
    try {
      const pid = qemuPid(c);
      const boot = cpuOf(pid);
      const log = join(c.dir, 'container.log');
      for (let i = 0; i < 6000 && !readFileSync(log, 'utf8').includes('hypr-bench-done'); i++)
        await new Promise((r) => setTimeout(r, 100));
      if (!readFileSync(log, 'utf8').includes('hypr-bench-done')) throw new Error(`the program did not finish: ${log}`);
      return { bootS: boot.cpuS, bootFaults: boot.faults, programS: cpuOf(pid).cpuS - boot.cpuS };
    } finally {
      await c.stop('SIGKILL', 0).catch(() => undefined);
    }
  });
}

const THP_OFF = { HYPR_VMM_THP: 'off' };
const CAPPED_MIB = 16;
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** Default against HYPR_VMM_THP=off, RUNS interleaved pairs (the order alternates). */
async function measureSpeed(runs: number): Promise<string> {
  const pairs: [Speed, Speed][] = [];
  const loadBefore = load();
  for (let i = 0; i < runs; i++) {
    if (i % 2) {
      const off = await timeHypr(THP_OFF);
      pairs.push([await timeHypr({}), off]);
    } else pairs.push([await timeHypr({}), await timeHypr(THP_OFF)]);
  }
  const row = (what: string, f: (s: Speed) => number, unit: (n: number) => string) => {
    const [a, b] = [median(pairs.map((p) => f(p[0]))), median(pairs.map((p) => f(p[1])))];
    const slower = pairs.filter((p) => f(p[1]) > f(p[0])).length;
    return `${what.padEnd(36)}${unit(a).padStart(10)}${unit(b).padStart(18)}${`${(b / a).toFixed(2)}×`.padStart(8)}${`${slower}/${runs}`.padStart(14)}`;
  };
  const s = (n: number) => `${n.toFixed(2)} s`;
  return [
    `QEMU CPU time, median of ${runs} interleaved pairs`,
    `${''.padEnd(36)}${'default'.padStart(10)}${'HYPR_VMM_THP=off'.padStart(18)}${'ratio'.padStart(8)}${'THP-off more'.padStart(14)}`,
    row('boot to the program', (x) => x.bootS, s),
    row('busybox program (gzip, sha256, awk…)', (x) => x.programS, s),
    row(
      'page faults during the boot',
      (x) => x.bootFaults,
      (n) => n.toFixed(0),
    ),
    `load average before: ${loadBefore}; after: ${load()}`,
  ].join('\n');
}

const hypr = await measureHypr();
const thpOff = await measureHypr(THP_OFF);
const capped = await measureHypr({ HYPR_TCG_CACHE_MIB: String(CAPPED_MIB) });
const plain = await measurePlainQemu();
const pod = measurePodman();
const speed = process.argv.includes('--speed') ? await measureSpeed(Number(process.env.BENCH_SPEED_RUNS ?? 5)) : '';
await podmanDone(join(work, 'podman'));
rmSync(work, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });

const f = (n: number) => `${n.toFixed(1)}`.padStart(7);
const row = (what: string, u: Usage) =>
  `${what.padEnd(34)}${f(u.rss)}${f(u.pss)}${f(u.guest)}${f(u.tcg)}${f(u.anon)}${f(u.files)}${f(u.rss - u.guest)}`;
const h = perContainer(hypr.vm);
const shim = perContainer(hypr.shim);
const p = perContainer(plain);
const lines = [
  `per idle container, MiB (median of ${VMS} running at once)     RSS    PSS  guest    TCG   anon  files  RSS-guest`,
  row('HYPR: QEMU', h),
  row('HYPR: hypr-shim', shim),
  row('HYPR, HYPR_VMM_THP=off: QEMU', perContainer(thpOff.vm)),
  row(`HYPR, HYPR_TCG_CACHE_MIB=${CAPPED_MIB}: QEMU`, perContainer(capped.vm)),
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
const facts = `guest: ${MEMORY_MIB} MiB, ${CPUS} vCPU, busybox \`sleep 600\` on an ext4 disk; accelerator: ${accel.accel} (${accel.reason}); HYPR besides the guest, QEMU + hypr-shim (RSS): ${(h.rss - h.guest + shim.rss).toFixed(1)} MiB; HYPR/raw ratio (QEMU RSS): ${(h.rss / p.rss).toFixed(2)}×; load average at the end: ${load()}`;
console.log(table);
console.log(facts);
if (speed) console.log(`\n${speed}`);
if (process.argv.includes('--record')) {
  recordSection(
    'Host memory per idle container',
    `\`pnpm bench:vm-memory${speed ? ' --speed' : ''}\`: ${VMS} idle containers of each kind at once, memory per container read from /proc/PID/smaps once their RSS has stopped moving. HYPR: core's \`startShim\` with the VM config hyprd gives a container (hypr-shim runs QEMU with the command line and environment containers get), then the same with \`HYPR_VMM_THP=off\` and with \`HYPR_TCG_CACHE_MIB=16\` in hyprd's environment (both opt-in). (a) \`qemu-system-x86_64 -M microvm,acpi=off\` with QEMU's defaults otherwise (1 GiB translation cache, no balloon) and the same kernel, kestrel job and disk. (b) podman with runc (crun refuses this machine's hybrid cgroups), vfs storage, \`--network none\`: conmon plus the container's process. Columns: RSS; PSS (pages shared between processes split among them); of RSS, guest RAM, TCG's translation cache, QEMU's other anonymous memory, mapped files; RSS minus guest RAM (what the host spends besides the guest).\n\n\`\`\`\n${table}\n\`\`\`\n\n${facts}.${speed ? `\n\nCPU time of QEMU (/proc/PID/stat, 10 ms ticks: what the host's CPUs spent, steadier than wall time on this shared machine) to reach the program and to run a busybox program, default against \`HYPR_VMM_THP=off\`, interleaved:\n\n\`\`\`\n${speed}\n\`\`\`` : ''}`,
  );
}
process.exit(0);
