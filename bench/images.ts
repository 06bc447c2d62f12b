/**
 * pnpm bench:images — pull + unpack + root-filesystem disk of one ~200 MB, 4-layer image from a
 * local registry (127.0.0.1), median wall time over N runs each of:
 *   (a) the chain a user would script: `skopeo copy docker://… oci:…` + `umoci unpack` + `mkfs.ext4 -d`;
 *   (b) HYPR: pullImage + getRootfsDisk from @hypr/core (same mkfs.ext4 -d at the end), in a fresh
 *       store each run, timed inside its process (node start-up excluded, listed apart).
 * Peak memory is the max RSS of the largest process of each pipeline (GNU time %M).
 * `--record` writes the figures into docs/benchmarks.md (section "Images").
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TarMemoryEntry } from '../packages/core/src/image/tar-writer.js';
import { ImageStore, openState, pullImage, runCommand } from '../packages/core/src/index.js';
import { createExt4Image, getRootfsDisk } from '../packages/core/src/rootfs/index.js';
import { buildBusyboxImage, pushTestImage } from '../packages/core/test/helpers/busybox-image.js';
import { startRegistry } from '../packages/core/test/helpers/registry.js';
import { median } from './lib.js';
import { recordSection } from './record.js';

// Child mode: one HYPR pull + disk into DIR, prints {ms} as JSON.
if (process.argv[2] === '--hypr-child') {
  const [dir, ref] = process.argv.slice(3);
  const t0 = performance.now();
  const state = openState(join(dir, 'hypr.db'));
  const store = await ImageStore.open(join(dir, 'images'), state);
  const image = await pullImage(store, ref);
  const tPull = performance.now();
  const disk = await getRootfsDisk(store, image);
  const t1 = performance.now();
  state.close();
  process.stdout.write(
    `${JSON.stringify({ ms: t1 - t0, pullMs: tPull - t0, diskMs: t1 - tPull, sizeBytes: disk.sizeBytes })}\n`,
  );
  process.exit(0);
}

const runs = Number(process.env.BENCH_RUNS ?? 5);
const tsx = resolve('node_modules/.bin/tsx');
const words = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore'.split(
  ' ',
);
const text = (n: number) => {
  const out: string[] = [];
  let len = 0;
  while (len < n) {
    const w = words[(len * 7919 + out.length) % words.length];
    out.push(w);
    len += w.length + 1;
  }
  return out.join(' ').slice(0, n);
};

function makeLayers(): TarMemoryEntry[][] {
  const libs: TarMemoryEntry[] = [{ path: 'usr/lib/app', type: 'directory' }];
  for (let i = 0; i < 1500; i++) {
    const size = 4096 + ((i * 104729) % 60000);
    libs.push({
      path: `usr/lib/app/m${i % 30}/f${i}.so`,
      type: 'file',
      mode: 0o755,
      data: i % 2 ? randomBytes(size) : text(size),
    });
  }
  const data: TarMemoryEntry[] = [{ path: 'var/data', type: 'directory' }];
  for (let i = 0; i < 4; i++) data.push({ path: `var/data/blob${i}.bin`, type: 'file', data: randomBytes(25 << 20) });
  const app: TarMemoryEntry[] = [{ path: 'srv/app', type: 'directory' }];
  for (let i = 0; i < 600; i++)
    app.push({ path: `srv/app/src/d${i % 20}/file${i}.js`, type: 'file', data: text(8192 + (i % 7) * 4096) });
  for (let i = 0; i < 100; i++) app.push({ path: `usr/lib/app/m${i % 30}/.wh.f${i}.so`, type: 'file', data: '' });
  app.push({ path: 'usr/lib/app/m29/.wh..wh..opq', type: 'file', data: '' });
  return [libs, data, app];
}

/** Runs a command under GNU time; returns wall ms and max RSS in KiB. */
async function timed(
  bin: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): Promise<{ ms: number; maxRssKiB: number; stdout: string }> {
  const t0 = performance.now();
  const { stdout, stderr } = await runCommand('/usr/bin/time', ['-f', 'HYPR_TIME %M', bin, ...args], { env });
  const ms = performance.now() - t0;
  const m = /HYPR_TIME (\d+)/.exec(stderr);
  return { ms, maxRssKiB: m ? Number(m[1]) : 0, stdout };
}

const registry = await startRegistry();
const work = mkdtempSync(join(tmpdir(), 'hypr-bench-images-'));
try {
  process.stderr.write('building the image…\n');
  const image = await buildBusyboxImage({ extraLayers: makeLayers() });
  const compressed = [...image.blobs.values()].reduce((n, b) => n + b.length, 0);
  const ref = await pushTestImage(registry, 'bench/big:1', image);
  const env = { PATH: process.env.PATH, HOME: process.env.HOME };
  const hypr: { ms: number; wall: number; rss: number; pull: number; disk: number }[] = [];
  const tools: { ms: number; rss: number; copy: number; unpack: number; mkfs: number }[] = [];
  for (let i = 0; i < runs; i++) {
    const h = join(work, `hypr-${i}`);
    const r = await timed(tsx, ['bench/images.ts', '--hypr-child', h, ref], env);
    const inner = JSON.parse(r.stdout.trim().split('\n').pop()!);
    hypr.push({ ms: inner.ms, wall: r.ms, rss: r.maxRssKiB, pull: inner.pullMs, disk: inner.diskMs });
    rmSync(h, { recursive: true, force: true });

    const t = join(work, `tools-${i}`);
    mkdirSync(t);
    const copy = await timed(
      'skopeo',
      ['copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `oci:${t}/layout:1`],
      env,
    );
    const unpack = await timed('umoci', ['unpack', '--image', `${t}/layout:1`, `${t}/bundle`], env);
    const t0 = performance.now();
    await createExt4Image(`${t}/bundle/rootfs`, `${t}/rootfs.ext4`);
    const mkfsMs = performance.now() - t0;
    // mkfs.ext4's own RSS, measured once the same way as the rest
    const mkfsRss =
      i === 0
        ? (await timed('mkfs.ext4', ['-q', '-F', '-d', `${t}/bundle/rootfs`, `${t}/again.ext4`, '400M'], env)).maxRssKiB
        : 0;
    tools.push({
      ms: copy.ms + unpack.ms + mkfsMs,
      rss: Math.max(copy.maxRssKiB, unpack.maxRssKiB, mkfsRss),
      copy: copy.ms,
      unpack: unpack.ms,
      mkfs: mkfsMs,
    });
    rmSync(t, { recursive: true, force: true });
    process.stderr.write(
      `run ${i + 1}/${runs}: hypr ${(inner.ms / 1000).toFixed(2)} s, tools ${(tools[i].ms / 1000).toFixed(2)} s\n`,
    );
  }
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const mib = (kib: number) => `${Math.round(kib / 1024)} MiB`;
  const hm = median(hypr.map((x) => x.ms));
  const tm = median(tools.map((x) => x.ms));
  const uncompressed = image.config.rootfs.diff_ids.length;
  const table = [
    `Image: busybox + 3 layers (1,500 small libs, 4 × 25 MiB data, 600 sources with 100 whiteouts and an opaque dir): ${uncompressed} layers, ${(compressed / 2 ** 20).toFixed(0)} MiB gzip, served by docker-registry on 127.0.0.1. ${runs} runs each, median; fresh store/layout every run.`,
    '',
    '```',
    'case                              hypr       alternative (skopeo + umoci + mkfs.ext4)   ratio',
    `pull + unpack + ext4 disk         ${s(hm).padEnd(10)} ${s(tm).padEnd(42)} ${(hm / tm).toFixed(2)}×`,
    `  of which pull (copy)            ${s(median(hypr.map((x) => x.pull))).padEnd(10)} ${s(median(tools.map((x) => x.copy)))}`,
    `  of which unpack + disk          ${s(median(hypr.map((x) => x.disk))).padEnd(10)} ${s(median(tools.map((x) => x.unpack + x.mkfs)))} (umoci ${s(median(tools.map((x) => x.unpack)))} + mkfs ${s(median(tools.map((x) => x.mkfs)))})`,
    `hypr incl. node/tsx start-up      ${s(median(hypr.map((x) => x.wall)))}`,
    `peak memory (largest process)     ${mib(Math.max(...hypr.map((x) => x.rss))).padEnd(10)} ${mib(Math.max(...tools.map((x) => x.rss)))}`,
    '```',
    '',
    "HYPR downloads layers 3 at a time, hashing while streaming, then unpacks in one pass per layer (node-tar's parser, no",
    'temporary copy) and runs the same `mkfs.ext4 -d`. umoci also writes an mtree manifest of the tree, which HYPR does not need.',
    "HYPR's peak memory is the whole node process run through the tsx loader (not only the pull's buffers); skopeo, umoci and",
    'mkfs.ext4 are separate small Go/C processes.',
  ].join('\n');
  process.stdout.write(`${table}\n`);
  if (process.argv.includes('--record')) recordSection('Images', table);
} finally {
  await registry.stop();
  rmSync(work, { recursive: true, force: true });
}
