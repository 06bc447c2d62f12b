/**
 * pnpm bench:boot — boot → run `true` → exit, median wall time over N runs each of:
 *   (a) raw QEMU: the same kernel and a prebuilt kestrel initramfs, channels to null devices;
 *   (b) HYPR: runVm from @hypr/core (initramfs written per run, channel sockets, marker parsing).
 * Prints the ratio b/a, the accelerator and kestrel's size. `--record` writes the figures into
 * docs/benchmarks.md (section "VM boot").
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QemuAdapter, detectAccelerator, encodeJob, guestArtifacts, runVm } from '../packages/core/src/index.js';
import { writeCpio } from '../packages/core/src/rootfs/initramfs.js';
import { median, rawQemuTrue } from './lib.js';
import { recordSection } from './record.js';

const runs = Number(process.env.BENCH_RUNS ?? 10);
const { kernel, kestrel } = guestArtifacts();
const accel = detectAccelerator();
const work = mkdtempSync(join(tmpdir(), 'hypr-bench-'));
const rootfs = join(work, 'rootfs');
execFileSync('bash', ['scripts/make-busybox-rootfs.sh', rootfs]);

const raw = rawQemuTrue({ kernel, kestrel, accel: accel.accel, work, root: { dir: rootfs } });

const rawTimes: number[] = [];
const hyprTimes: number[] = [];
for (let i = 0; i < runs; i++) {
  // Interleaved so that machine noise hits both sides alike.
  let t = performance.now();
  execFileSync(raw.binary, raw.args, { stdio: 'ignore' });
  rawTimes.push(performance.now() - t);
  t = performance.now();
  const r = await runVm({ rootfs: { dir: rootfs }, argv: ['true'], accel });
  hyprTimes.push(performance.now() - t);
  if (r.exitCode !== 0) throw new Error(`runVm exited ${r.exitCode}`);
}
rmSync(work, { recursive: true, force: true });

const a = median(rawTimes);
const b = median(hyprTimes);
const kestrelBytes = statSync(kestrel).size;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const table = [
  'case                       hypr      alternative           ratio',
  `boot → exit (true)         ${s(b)}    ${s(a)} (raw QEMU)     ${(b / a).toFixed(2)}×`,
].join('\n');
const facts = `accelerator: ${accel.accel} (${accel.reason}); runs: ${runs} each, interleaved, median; kestrel: ${kestrelBytes} bytes (${(kestrelBytes / 1024).toFixed(1)} KiB); host overhead: ${(b - a).toFixed(0)} ms`;
console.log(table);
console.log(facts);
if (process.argv.includes('--record')) {
  recordSection(
    'VM boot',
    `\`pnpm bench:boot\`: boot of the guest kernel with kestrel as PID 1 running \`true\` in a busybox rootfs shared by 9p, until the hypervisor exits. (a) raw \`qemu-system-x86_64 -M microvm\` with the same kernel, a prebuilt initramfs and the channels written to /dev/null; (b) \`runVm\` from @hypr/core, which also writes the initramfs, listens on the three channel sockets and parses the exit marker.\n\n\`\`\`\n${table}\n\`\`\`\n\n${facts}.`,
  );
}
process.exit(0);
