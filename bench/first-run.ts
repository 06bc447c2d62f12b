/**
 * pnpm bench:first-run — (1) the first `hypr run --rm IMAGE true` of a freshly pulled image against a
 * warm run of it: an 80 MiB image of busybox plus 2,000 files (host-milliseconds.sh's), pushed to a
 * local registry; each round removes the image (and with prune its blobs and disk), pulls it, runs it
 * once (first) and once more (warm). (2) Disk use of two images sharing a 90 MiB base: the stored
 * blobs and the read-only disks, after pulling the base and an image of the base plus a small layer,
 * with one disk per layer (the default) and with one flattened disk per image (a second hyprd with
 * HYPR_LAYER_DISKS=0); the pull, first and warm runs of (1) are timed on both, interleaved. (3) Boot
 * times from a flattened disk and from layer disks. Medians of BENCH_RUNS (default 3) rounds.
 * `--record` writes docs/benchmarks.md's "First run"; its "Layer sharing" (figures of (2) and (3),
 * and how layer disks work) is kept by hand.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectAccelerator, getImageRootfs, guestArtifacts, runVm } from '../packages/core/src/index.js';
import type { RootfsSource, TarMemoryEntry } from '../packages/core/src/index.js';
import { loadTestImage, openTestStore } from '../packages/core/test/helpers/build-store.js';
import { buildBusyboxImage } from '../packages/core/test/helpers/busybox-image.js';
import { HYPRD, hyprOk, startDaemon, startE2eEnv } from '../test/e2e/helpers.js';
import { median, rawQemuTrue, timedHypr } from './lib.js';
import { recordSection } from './record.js';

const runs = Number(process.env.BENCH_RUNS ?? 3);
const accel = detectAccelerator();
const files = (dir: string, count: number, sizeBytes: number): TarMemoryEntry[] => [
  ...['usr', 'usr/share', dir].map((path) => ({ path, type: 'directory' as const })),
  ...Array.from({ length: count }, (_, i) => ({
    path: `${dir}/f${i}`,
    type: 'file' as const,
    data: randomBytes(sizeBytes),
  })),
];
const base = files('usr/share/base', 900, 100 * 1024); // 90 MiB
const env = await startE2eEnv([
  { name: 'big:1', opts: { extraLayers: [files('usr/share/data', 2000, 41943)] } },
  { name: 'base:1', opts: { extraLayers: [base] } },
  { name: 'child:1', opts: { extraLayers: [base, [{ path: 'etc/child', type: 'file', data: 'child\n' }]] } },
]);
const d = await startDaemon({ dir: env.dir });
const df = await startFlattenedDaemon(env.dir);
const [big, baseRef, childRef] = env.refs;

/** Bytes allocated on the host under a path (du), in MiB. */
const usedMiB = (p: string) => Number(execFileSync('du', ['-sk', p], { encoding: 'utf8' }).split('\t')[0]) / 1024;

/** A second hyprd beside startDaemon's, on the same registry, with one flattened disk per image. */
async function startFlattenedDaemon(dir: string): Promise<{ host: string; home: string; stop(): Promise<void> }> {
  const home = join(dir, 'home-flattened');
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'daemon.json'), JSON.stringify({ bridge: 'none' }));
  const socket = join(dir, 'hyprd-flattened.sock');
  const logPath = join(dir, 'hyprd-flattened.log');
  const fd = openSync(logPath, 'a');
  const proc = spawn(process.execPath, [HYPRD, '-H', `unix://${socket}`], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HYPR_HOME: home, HYPR_LAYER_DISKS: '0' },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise((r) => proc.once('exit', r));
  while (!(existsSync(socket) && readFileSync(logPath, 'utf8').includes('hyprd listening'))) {
    if (proc.exitCode !== null) throw new Error(`hyprd did not start:\n${readFileSync(logPath, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host: `unix://${socket}`,
    home,
    async stop() {
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** The big image gone from a daemon with its blobs and disks (removed if there, then pruned). */
async function forgetBig(host: string): Promise<void> {
  await hyprOk({ host }, ['rmi', '-f', big]).catch(() => '');
  await hyprOk({ host }, ['image', 'prune', '-a', '-f']);
}

/** One round on one daemon: the image removed and pruned, pulled, run once (first) and once more (warm). */
async function round(host: string, into: { pulls: number[]; firsts: number[]; warms: number[] }): Promise<void> {
  await forgetBig(host);
  into.pulls.push(timedHypr(host, ['pull', '-q', big]));
  into.firsts.push(timedHypr(host, ['run', '--rm', big, 'true']));
  into.warms.push(timedHypr(host, ['run', '--rm', big, 'true']));
}

/**
 * The control, in the same rounds: the same removal, prune and pull, then raw QEMU (no hyprd, no CLI)
 * boots the image's bottom layer disk (busybox, the smallest of its two) twice. What raw QEMU's first
 * boot after a pull costs over its second is this host's, not HYPR's: a host that hands its free memory
 * back to its own hypervisor (free page reporting, as this one does) makes a QEMU whose guest RAM
 * lands on pages freed seconds ago fault them back in, and the warm boot reuses the previous one's.
 */
async function rawRound(host: string, home: string, into: { firsts: number[]; warms: number[] }): Promise<void> {
  await forgetBig(host);
  await hyprOk({ host }, ['pull', '-q', big]);
  const dir = join(home, 'images', 'rootfs');
  const disk = readdirSync(dir)
    .filter((f) => f.endsWith('.ext4'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(a).size - statSync(b).size)[0];
  const work = mkdtempSync(join(tmpdir(), 'hypr-bench-'));
  try {
    const { kernel, kestrel } = guestArtifacts();
    const raw = rawQemuTrue({ kernel, kestrel, accel: accel.accel, work, root: { disk }, cpus: 1, memoryMiB: 2048 });
    for (const times of [into.firsts, into.warms]) {
      const t = performance.now();
      execFileSync(raw.binary, raw.args, { stdio: 'ignore' });
      times.push(performance.now() - t);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Whether this host reports its free pages to its own hypervisor (a virtio balloon's), and from which order. */
function pageReporting(): string {
  try {
    const order = readFileSync('/sys/module/page_reporting/parameters/page_reporting_order', 'utf8').trim();
    return `this host reports free pages of order >= ${order} to its hypervisor (virtio-balloon free page reporting)`;
  } catch {
    return 'this host does not report free pages to a hypervisor';
  }
}

/** Disk use after pulling the base and the child on one daemon: blobs, and the read-only disks. */
async function sharedBaseUse(host: string, home: string): Promise<{ blobs: number; disks: number }> {
  await hyprOk({ host }, ['rmi', '-f', big]);
  await hyprOk({ host }, ['image', 'prune', '-a', '-f']);
  await hyprOk({ host }, ['pull', '-q', baseRef]);
  await hyprOk({ host }, ['pull', '-q', childRef]);
  const images = join(home, 'images');
  return { blobs: usedMiB(join(images, 'blobs')), disks: usedMiB(join(images, 'rootfs')) };
}

/**
 * (3) Boot to the exit of `true`, from @hypr/core (no daemon, no CLI): the child image (busybox, a
 * 9 MiB layer, a small one) from its flattened disk and from its three layer disks, interleaved.
 */
async function bootTimes(): Promise<string> {
  const ts = await openTestStore();
  try {
    const small = [{ path: 'etc/child', type: 'file' as const, data: 'child\n' }];
    await loadTestImage(
      ts.store,
      await buildBusyboxImage({ extraLayers: [files('usr/share/base', 90, 102400), small] }),
      'child:1',
    );
    const image = ts.store.findImage('child:1');
    if (!image) throw new Error('child:1 is not in the bench store');
    const flat = (await getImageRootfs(ts.store, image, { layers: false })).disks[0].path;
    const layers = (await getImageRootfs(ts.store, image, { layers: true })).disks.map((x) => x.path);
    const a: number[] = [];
    const b: number[] = [];
    const boot = async (rootfs: RootfsSource, into: number[]) => {
      const t = performance.now();
      const r = await runVm({ rootfs, argv: ['true'] });
      if (r.exitCode !== 0) throw new Error(`true exited ${r.exitCode}`);
      into.push(performance.now() - t);
    };
    for (let i = 0; i < runs; i++) {
      await boot({ disk: flat, type: 'ext4' }, a);
      await boot({ disks: layers, type: 'ext4' }, b);
    }
    const ms = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(' ');
    return [
      'boot → exit (true), runVm     flattened  3 layer disks  ratio',
      `child image                   ${(median(a) / 1000).toFixed(2)} s     ${(median(b) / 1000).toFixed(2)} s         ${(median(b) / median(a)).toFixed(2)}×`,
      `all runs (ms): flattened ${ms(a)}; layer disks ${ms(b)}; load average ${loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}`,
    ].join('\n');
  } finally {
    await ts.close();
  }
}

try {
  const pulls: number[] = [];
  const firsts: number[] = [];
  const warms: number[] = [];
  const flattened = { pulls: [] as number[], firsts: [] as number[], warms: [] as number[] };
  const raw = { firsts: [] as number[], warms: [] as number[] };
  for (let i = 0; i < runs; i++) {
    await round(d.host, { pulls, firsts, warms });
    await rawRound(d.host, d.home, raw);
    await round(df.host, flattened);
  }
  const layerUse = await sharedBaseUse(d.host, d.home);
  const { blobs, disks } = await sharedBaseUse(df.host, df.home);
  const layered = { pulls, firsts, warms };

  const s = (x: number) => `${(x / 1000).toFixed(2)} s`;
  const f = median(firsts);
  const w = median(warms);
  const rf = median(raw.firsts);
  const rw = median(raw.warms);
  const table = [
    'case                                         first      warm                ratio',
    `hypr run --rm IMAGE true after pull          ${s(f)}    ${s(w)} (warm run)    ${(f / w).toFixed(2)}×`,
    `raw QEMU boot of its bottom layer after pull ${s(rf)}    ${s(rw)} (warm boot)   ${(rf / rw).toFixed(2)}×`,
    `pull (80 MiB, 2,000 files; disk included)    ${s(median(pulls))}`,
  ].join('\n');
  const mib = (x: number) => `${x.toFixed(0)} MiB`.padEnd(16);
  const use = [
    'two images sharing a 90 MiB base (base, base + one small layer), pulled:',
    '                   flattened disks   layer disks',
    `  layer blobs      ${mib(blobs)}  ${mib(layerUse.blobs)}`,
    `  read-only disks  ${mib(disks)}  ${mib(layerUse.disks)}`,
    `  total            ${mib(blobs + disks)}  ${mib(layerUse.blobs + layerUse.disks)}`,
  ].join('\n');
  const both = (name: string, a: number[], b: number[]) =>
    `${name.padEnd(40)} ${s(median(a)).padEnd(10)} ${s(median(b)).padEnd(12)} ${(median(b) / median(a)).toFixed(2)}×`;
  const times = [
    'case (the image of the first part)       flattened  layer disks  ratio',
    both('pull (disks made)', flattened.pulls, layered.pulls),
    both('first run --rm IMAGE true after pull', flattened.firsts, layered.firsts),
    both('warm run --rm IMAGE true', flattened.warms, layered.warms),
  ].join('\n');
  const layerFacts = `all runs (ms), flattened: pull ${flattened.pulls.map((x) => x.toFixed(0)).join(' ')}; first ${flattened.firsts.map((x) => x.toFixed(0)).join(' ')}; warm ${flattened.warms.map((x) => x.toFixed(0)).join(' ')}; load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`;
  const all = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(' ');
  const facts = `accelerator: ${accel.accel} (${accel.reason}); ${runs} rounds, median; all runs (ms): first ${all(firsts)}; warm ${all(warms)}; raw QEMU first ${all(raw.firsts)}, warm ${all(raw.warms)}; ${pageReporting()}`;
  console.log(table);
  console.log(use);
  console.log(times);
  console.log(facts);
  console.log(layerFacts);
  console.log(await bootTimes());
  if (process.argv.includes('--record')) {
    recordSection(
      'First run',
      `\`pnpm bench:first-run\`: a real hyprd, a local registry, an 80 MiB image of busybox plus 2,000 random 41 KiB files (the image of ../shared/acceptance/host-milliseconds.sh). Each round removes the image and prunes (its blobs and disk go), pulls it, then times \`hypr run --rm IMAGE true\` twice as a user types it: the first run after the pull and a warm one. The control, in the same rounds: the same removal and pull, then raw \`qemu-system-x86_64\` boots the image's bottom layer disk twice (the host's own first-boot cost, without HYPR).\n\n\`\`\`\n${table}\n\`\`\`\n\n${facts}.`,
    );
  }
} finally {
  await df.stop();
  await d.shutdown();
  await env.cleanup();
}
process.exit(0);
