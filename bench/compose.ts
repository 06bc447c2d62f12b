/**
 * pnpm bench:compose — `hypr compose up -d` of 5 independent services against one container's boot
 * (`hypr run -d`), side by side in one run, and a 1-service `compose up -d` to show what compose
 * itself adds. hyprd runs in a network namespace of its own (the project gets its bridge and DNS as
 * a user's would); each `up` is followed by an untimed `down`. Medians of BENCH_RUNS (default 3)
 * interleaved rounds. `--record` writes docs/benchmarks.md.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectAccelerator } from '../packages/core/src/index.js';
import { hyprOk } from '../test/e2e/helpers.js';
import { median, startDaemonInNetns, timedHypr } from './lib.js';
import { recordSection } from './record.js';

const runs = Number(process.env.BENCH_RUNS ?? 3);
const services = Number(process.env.BENCH_SERVICES ?? 5);
const image = 'hypr-bench/box:latest';
const accel = detectAccelerator();
const d = await startDaemonInNetns(image);

const stack = (n: number) =>
  `name: bench${n}\nservices:\n${Array.from(
    { length: n },
    (_, i) => `  s${i}:\n    image: ${image}\n    command: ["sleep", "600"]\n    stop_grace_period: 1s\n`,
  ).join('')}`;

const timed = (args: string[]): number => timedHypr(d.host, args);

try {
  const files = [1, services].map((n) => {
    const f = join(d.dir, `compose-${n}.yaml`);
    writeFileSync(f, stack(n));
    return f;
  });
  await hyprOk(d, ['run', '--rm', image, 'true'], { timeoutMs: 300_000 }); // warm: page cache, disk made
  const one: number[] = [];
  const upOne: number[] = [];
  const upMany: number[] = [];
  for (let i = 0; i < runs; i++) {
    one.push(timed(['run', '-d', '--name', `solo${i}`, image, 'sleep', '600']));
    await hyprOk(d, ['rm', '-f', `solo${i}`], { timeoutMs: 300_000 });
    upOne.push(timed(['compose', '-f', files[0], 'up', '-d']));
    await hyprOk(d, ['compose', '-f', files[0], 'down', '-t', '1'], { timeoutMs: 300_000 });
    upMany.push(timed(['compose', '-f', files[1], 'up', '-d']));
    await hyprOk(d, ['compose', '-f', files[1], 'down', '-t', '1'], { timeoutMs: 300_000 });
  }
  const s = (x: number) => `${(x / 1000).toFixed(2)} s`;
  const base = median(one);
  const table = [
    'case                                   hypr      alternative               ratio',
    `compose up -d, ${services} services               ${s(median(upMany))}    ${s(base)} (run -d, one)     ${(median(upMany) / base).toFixed(2)}×`,
    `compose up -d, 1 service                ${s(median(upOne))}    ${s(base)} (run -d, one)     ${(median(upOne) / base).toFixed(2)}×`,
  ].join('\n');
  const facts = `accelerator: ${accel.accel} (${accel.reason}); ${runs} interleaved rounds, median; all runs (ms): run -d ${one.map((x) => x.toFixed(0)).join(' ')}; up 1 ${upOne.map((x) => x.toFixed(0)).join(' ')}; up ${services} ${upMany.map((x) => x.toFixed(0)).join(' ')}`;
  console.log(table);
  console.log(facts);
  if (process.argv.includes('--record')) {
    recordSection(
      'Compose up',
      `\`pnpm bench:compose\`: a real hyprd in its own network namespace, a busybox image loaded with \`hypr load\`. \`hypr compose up -d\` of ${services} independent services (\`sleep 600\`, one 256 MiB / 1 vCPU VM each, on the project's own network) against \`hypr run -d IMAGE sleep 600\` of one container on the default network, each a new CLI process timed until it exits (containers started), then removed untimed (\`rm -f\`, \`compose down\`).\n\n\`\`\`\n${table}\n\`\`\`\n\n${facts}.`,
    );
  }
} finally {
  await d.stop();
}
process.exit(0);
