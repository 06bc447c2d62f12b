// Ad-hoc (not a test): boot time and idle host RSS of VMs of several sizes, boots interleaved so
// that machine noise hits every size alike. Used to compare the default size with the old
// 256 MiB / 1 vCPU; figures in docs/benchmarks.md.
// usage: tsx packages/core/test/helpers/measure-size.ts RUNS MEMORY_MIB:CPUS...
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { bootGuestVm, runVm } from '../../src/vmm/guest-vm.js';
import { makeBusyboxRootfs } from './vm.js';

const [runsText, ...specs] = process.argv.slice(2);
const sizes = specs.map((s) => s.split(':').map(Number) as [number, number]);
const rootfs = await makeBusyboxRootfs();
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
const times = sizes.map(() => [] as number[]);
for (let i = 0; i < Number(runsText); i++) {
  for (const [k, [memoryMiB, cpus]] of sizes.entries()) {
    const t = performance.now();
    await runVm({ rootfs: { dir: rootfs }, argv: ['true'], memoryMiB, cpus });
    times[k].push(performance.now() - t);
  }
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const [k, [memoryMiB, cpus]] of sizes.entries()) {
  let up!: () => void;
  const seen = new Promise<void>((r) => {
    up = r;
  });
  const vm = await bootGuestVm({
    rootfs: { dir: rootfs },
    argv: ['sh', '-c', 'echo up; sleep 1000'],
    memoryMiB,
    cpus,
    exec: true,
    onStdout: (b) => b.toString().includes('up') && up(),
  });
  await seen;
  await new Promise((r) => setTimeout(r, 10_000));
  const idle = rssMiB(vm.pid as number);
  // Touch 200 MiB in the guest and free it: what free page reporting gives back.
  await vm.exec({ argv: ['sh', '-c', 'dd if=/dev/zero of=/tmp/x bs=1M count=200 2>/dev/null; rm /tmp/x'] }).wait();
  const touched = rssMiB(vm.pid as number);
  await new Promise((r) => setTimeout(r, 15_000));
  const after = rssMiB(vm.pid as number);
  await vm.destroy();
  console.log(
    JSON.stringify({
      memoryMiB,
      cpus,
      bootMedianMs: Math.round(median(times[k])),
      idleRssMiB: +idle.toFixed(1),
      touched200MiB: +touched.toFixed(1),
      freed15sLater: +after.toFixed(1),
    }),
  );
}
await rm(rootfs, { recursive: true, force: true });
process.exit(0);
