/**
 * pnpm bench:first-run — (1) the first `hypr run --rm IMAGE true` of a freshly pulled image against a
 * warm run of it: an 80 MiB image of busybox plus 2,000 files (host-milliseconds.sh's), pushed to a
 * local registry; each round removes the image (and with prune its blobs and disk), pulls it, runs it
 * once (first) and once more (warm). (2) Disk use of two images sharing a 90 MiB base: the stored
 * blobs and the read-only disks, after pulling the base and an image of the base plus a small layer.
 * Medians of BENCH_RUNS (default 3) rounds. `--record` writes docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { detectAccelerator } from '../packages/core/src/index.js';
import type { TarMemoryEntry } from '../packages/core/src/index.js';
import { hyprOk, startDaemon, startE2eEnv } from '../test/e2e/helpers.js';
import { median, timedHypr } from './lib.js';
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
const [big, baseRef, childRef] = env.refs;

const timed = (args: string[]): number => timedHypr(d.host, args);
/** Bytes allocated on the host under a path (du), in MiB. */
const usedMiB = (p: string) => Number(execFileSync('du', ['-sk', p], { encoding: 'utf8' }).split('\t')[0]) / 1024;

try {
  const pulls: number[] = [];
  const firsts: number[] = [];
  const warms: number[] = [];
  for (let i = 0; i < runs; i++) {
    await hyprOk(d, ['rmi', '-f', big]).catch(() => '');
    await hyprOk(d, ['image', 'prune', '-a', '-f']);
    pulls.push(timed(['pull', '-q', big]));
    firsts.push(timed(['run', '--rm', big, 'true']));
    warms.push(timed(['run', '--rm', big, 'true']));
  }
  await hyprOk(d, ['rmi', '-f', big]);
  await hyprOk(d, ['image', 'prune', '-a', '-f']);
  await hyprOk(d, ['pull', '-q', baseRef]);
  await hyprOk(d, ['pull', '-q', childRef]);
  const images = join(d.home, 'images');
  const blobs = usedMiB(join(images, 'blobs'));
  const disks = usedMiB(join(images, 'rootfs'));

  const s = (x: number) => `${(x / 1000).toFixed(2)} s`;
  const f = median(firsts);
  const w = median(warms);
  const table = [
    'case                                         hypr       alternative         ratio',
    `first run --rm IMAGE true after pull         ${s(f)}    ${s(w)} (warm run)    ${(f / w).toFixed(2)}×`,
    `pull (80 MiB, 2,000 files; disk included)    ${s(median(pulls))}`,
  ].join('\n');
  const use = [
    'two images sharing a 90 MiB base (base, base + one small layer), pulled:',
    `  layer blobs    ${blobs.toFixed(0)} MiB`,
    `  rootfs disks   ${disks.toFixed(0)} MiB`,
    `  total          ${(blobs + disks).toFixed(0)} MiB`,
  ].join('\n');
  const facts = `accelerator: ${accel.accel} (${accel.reason}); ${runs} rounds, median; all runs (ms): first ${firsts.map((x) => x.toFixed(0)).join(' ')}; warm ${warms.map((x) => x.toFixed(0)).join(' ')}`;
  console.log(table);
  console.log(use);
  console.log(facts);
  if (process.argv.includes('--record')) {
    recordSection(
      'First run',
      `\`pnpm bench:first-run\`: a real hyprd, a local registry, an 80 MiB image of busybox plus 2,000 random 41 KiB files (the image of ../shared/acceptance/host-milliseconds.sh). Each round removes the image and prunes (its blobs and disk go), pulls it, then times \`hypr run --rm IMAGE true\` twice as a user types it: the first run after the pull and a warm one.\n\n\`\`\`\n${table}\n\`\`\`\n\n${facts}.`,
    );
    recordSection(
      'Layer sharing',
      `\`pnpm bench:first-run\` (second part): disk use on the host after pulling an image of busybox plus a 90 MiB layer, and an image of the same two layers plus a small one. \`du\` of the image store's blobs and of its read-only disks.\n\n\`\`\`\n${use}\n\`\`\``,
    );
  }
} finally {
  await d.shutdown();
  await env.cleanup();
}
process.exit(0);
