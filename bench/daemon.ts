/**
 * pnpm bench:daemon — what the daemon and CLI add on top of a VM, in one run:
 *   1. `hypr run --rm IMAGE true` end to end (CLI process + hyprd + state + shim + VM) against the
 *      raw hypervisor booting the same kernel and the same rootfs disk, and against core's runVm;
 *   2. `hypr ps` latency against `node -e 0` (the floor of any Node CLI);
 *   3. host memory per idle container: the hypervisor's and the shim's RSS, and the daemon's growth.
 * Medians of BENCH_RUNS (default 20) interleaved runs: a TCG boot here varies by ±200 ms from one run to the
 * next, so the median of 10 moved the overhead by tens of ms between two runs of this script. `--record` writes
 * docs/benchmarks.md.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectAccelerator, guestArtifacts, runVm } from '../packages/core/src/index.js';
import { daemonConfigSchema } from '../packages/daemon/src/config/index.js';
import { hypr, hyprOk, startDaemon, startE2eEnv } from '../test/e2e/helpers.js';
import { median, rawQemuTrue } from './lib.js';
import { recordSection } from './record.js';

const runs = Number(process.env.BENCH_RUNS ?? 20);
const defaults = daemonConfigSchema.parse({});
const idle = Number(process.env.BENCH_IDLE ?? 5);
const accel = detectAccelerator();
const { kernel, kestrel } = guestArtifacts();
const env = await startE2eEnv();
const d = await startDaemon({ dir: env.dir });
const HYPR = join(import.meta.dirname, '../packages/cli/bin/hypr.cjs');
const cliEnv = { PATH: process.env.PATH, HOME: process.env.HOME, HYPR_HOST: d.host };

try {
  await hyprOk(d, ['pull', '-q', env.image]);
  await hyprOk(d, ['run', '--rm', env.image, 'true']); // makes the cached rootfs disk
  const rootfsDir = join(d.home, 'images', 'rootfs');
  const disk = join(rootfsDir, readdirSync(rootfsDir).find((f) => f.endsWith('.ext4')) ?? '');

  // The raw hypervisor: same kernel, same disk, the same VM size as hyprd gives a container (its
  // daemon.json defaults), a prebuilt initramfs, channels to /dev/null.
  const work = mkdtempSync(join(tmpdir(), 'hypr-bench-'));
  const size = { cpus: defaults['default-cpus'], memoryMiB: defaults['default-memory-mib'] };
  const raw = rawQemuTrue({ kernel, kestrel, accel: accel.accel, work, root: { disk }, ...size });

  const rawTimes: number[] = [];
  const coreTimes: number[] = [];
  const hyprTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    execFileSync(raw.binary, raw.args, { stdio: 'ignore' });
    rawTimes.push(performance.now() - t);
    t = performance.now();
    const r = await runVm({ rootfs: { disk, type: 'ext4' }, argv: ['true'], env: ['PATH=/bin'], accel, ...size });
    coreTimes.push(performance.now() - t);
    if (r.exitCode !== 0) throw new Error(`runVm exited ${r.exitCode}`);
    t = performance.now();
    const h = spawnSync(process.execPath, [HYPR, 'run', '--rm', env.image, 'true'], { env: cliEnv });
    hyprTimes.push(performance.now() - t);
    if (h.status !== 0) throw new Error(`hypr run exited ${h.status}: ${h.stderr}`);
  }
  rmSync(work, { recursive: true, force: true });

  // hypr ps against the floor of a Node process.
  const psTimes: number[] = [];
  const nodeTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    // The same environment as the CLI's: NODE_EXTRA_CA_CERTS alone (set on some machines) costs a Node
    // process ~100 ms at start, reading the certificates.
    spawnSync(process.execPath, ['-e', '0'], { env: cliEnv });
    nodeTimes.push(performance.now() - t);
    t = performance.now();
    const p = spawnSync(process.execPath, [HYPR, 'ps'], { env: cliEnv });
    psTimes.push(performance.now() - t);
    if (p.status !== 0) throw new Error(`hypr ps exited ${p.status}: ${p.stderr}`);
  }

  // Host memory per idle container.
  const rss = (pid: number) => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : 0;
    } catch {
      return 0;
    }
  };
  const daemonBefore = rss(d.pid);
  const ids: string[] = [];
  for (let i = 0; i < idle; i++) ids.push((await hyprOk(d, ['run', '-d', env.image, 'sleep', '600'])).trim());
  await new Promise((r) => setTimeout(r, 5000)); // booted and idle
  let vmBytes = 0;
  let shimBytes = 0;
  for (const id of ids) {
    const state = JSON.parse(readFileSync(join(d.home, 'containers', id.slice(0, 12), 'state.json'), 'utf8'));
    vmBytes += rss(state.vmPid);
    shimBytes += rss(state.pid);
  }
  const daemonGrowth = Math.max(0, rss(d.pid) - daemonBefore);
  await hypr(d, ['rm', '-f', ...ids], { timeoutMs: 120_000 });

  const ms = (x: number) => `${x.toFixed(0)} ms`;
  const s = (x: number) => `${(x / 1000).toFixed(2)} s`;
  const mib = (x: number) => `${(x / 1024 / 1024).toFixed(1)} MiB`;
  const a = median(rawTimes);
  const c = median(coreTimes);
  const b = median(hyprTimes);
  const table = [
    'case                              hypr       alternative                 ratio   overhead',
    `run --rm IMAGE true               ${s(b)}     ${s(a)} (raw QEMU, same disk)  ${(b / a).toFixed(2)}×   ${ms(b - a)}`,
    `run --rm IMAGE true               ${s(b)}     ${s(c)} (core runVm)          ${(b / c).toFixed(2)}×   ${ms(b - c)}`,
    `hypr ps (empty)                   ${ms(median(psTimes))}     ${ms(median(nodeTimes))} (node -e 0)            ${(median(psTimes) / median(nodeTimes)).toFixed(2)}×   ${ms(median(psTimes) - median(nodeTimes))}`,
  ].join('\n');
  const memory = [
    `idle containers (sleep 600, ${defaults['default-memory-mib']} MiB, ${defaults['default-cpus']} vCPU VMs, hyprd's default): ${idle}`,
    `hypervisor RSS per container: ${mib(vmBytes / idle)}`,
    `shim RSS per container: ${mib(shimBytes / idle)}`,
    `daemon RSS growth per container: ${mib(daemonGrowth / idle)}`,
    `total host memory per idle container: ${mib((vmBytes + shimBytes + daemonGrowth) / idle)}`,
  ].join('\n');
  const facts = `accelerator: ${accel.accel} (${accel.reason}); ${runs} interleaved runs each, median`;
  console.log(table);
  console.log(memory);
  console.log(facts);
  if (process.argv.includes('--record')) {
    recordSection(
      'Daemon and CLI',
      `\`pnpm bench:daemon\`: a real hyprd on a temp socket, the busybox test image from a local registry. (1) \`hypr run --rm IMAGE true\` as a user types it (a new CLI process, create + attach + start over the socket, state writes, the per-container shim, the VM, removal) against the raw \`qemu-system-x86_64 -M microvm\` boot of the same kernel and the same cached rootfs disk running \`true\`, and against core's \`runVm\` (no daemon, no shim); (2) \`hypr ps\` with no containers against \`node -e 0\`; (3) RSS of the hypervisor and shim processes per idle container, and the growth of hyprd's RSS.\n\n\`\`\`\n${table}\n\n${memory}\n\`\`\`\n\n${facts}.`,
    );
  }
} finally {
  await d.stop();
  await env.cleanup();
}
process.exit(0);
