#!/usr/bin/env node
// CLI start-up (docs/benchmarks.md, "CLI start-up"): copies the built package (timestamps kept,
// node_modules linked to the workspace's) three times into a temp dir: without a bundle (the modules
// tsc wrote), with dist/hypr.mjs (one module, what the single executable runs) and with dist/bundle/
// (a chunk per command, what `pnpm build` writes), and times `hypr --version`, `hypr ps` and
// `hypr run --rm IMAGE true` in each beside `node -e 0`, interleaved, median of N runs. `ps` asks a
// real hyprd (packages/daemon, started on a temp socket and home, no containers: the list is empty);
// `run` is timed from its spawn to the first byte it sends on a socket of this script's, which then
// kills it: its start-up up to its first RPC (the create), without a daemon's answer or a VM; no CPU
// time for it (the process is killed, not ended).
// Usage: node scripts/startup-bench.mjs [N=15]
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleCli, bundleCliSplit } from './bundle.mjs';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 15);
const tmp = mkdtempSync(join(tmpdir(), 'hypr-startup-'));
let daemon;
try {
  mkdirSync(join(tmp, 'home'));
  writeFileSync(join(tmp, 'home/daemon.json'), JSON.stringify({ bridge: 'none' }));
  const socket = join(tmp, 'hyprd.sock');
  daemon = spawn(process.execPath, [join(pkg, '../daemon/bin/hyprd.js'), '-H', `unix://${socket}`], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HYPR_HOME: join(tmp, 'home') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  daemon.stderr.on('data', (b) => {
    log += b;
  });
  const copy = (name) => {
    const dir = join(tmp, name);
    for (const f of ['bin', 'dist', 'package.json', 'oclif.manifest.json'])
      cpSync(join(pkg, f), join(dir, f), { recursive: true, preserveTimestamps: true });
    rmSync(join(dir, 'dist/bundle'), { recursive: true, force: true });
    rmSync(join(dir, 'dist/hypr.mjs'), { force: true });
    symlinkSync(join(pkg, 'node_modules'), join(dir, 'node_modules'));
    return join(dir, 'bin/hypr.cjs');
  };
  const kinds = { modules: copy('modules'), single: copy('single'), split: copy('split') };
  await bundleCli(join(tmp, 'single/dist/hypr.mjs'));
  await bundleCliSplit(join(tmp, 'split/dist/bundle'));
  if (!existsSync(join(tmp, 'split/dist/bundle/hypr.mjs'))) throw new Error('no split bundle');
  const nobody = `unix://${join(tmp, 'nobody.sock')}`;
  // The first byte a `hypr run` sends: its first RPC has begun.
  let firstByte;
  const listener = createServer((c) => c.once('data', () => firstByte?.())).listen(join(tmp, 'first.sock'));
  const first = `unix://${join(tmp, 'first.sock')}`;
  const commands = {
    '--version': [nobody, '--version'],
    ps: [`unix://${socket}`, 'ps'],
    'run --rm': [first, 'run', '--rm', 'bench/none:1', 'true'],
  };
  const cases = { 'node -e 0': [undefined, '-e', '0'] };
  for (const [label, [host, ...args]] of Object.entries(commands))
    for (const [kind, bin] of Object.entries(kinds)) cases[`hypr ${label} (${kind})`] = [host, bin, ...args];
  for (let i = 0; !existsSync(socket); i++) {
    if (i > 600 || daemon.exitCode !== null) throw new Error(`hyprd did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // Every case without NODE_EXTRA_CA_CERTS: set on some machines (this one), it costs each Node process
  // ~100 ms of reading certificates at start, which would hide what hypr itself adds to `node -e 0`.
  const baseEnv = { ...process.env, NODE_EXTRA_CA_CERTS: undefined }; // spawn leaves undefined out
  // CPU time (user + system, from GNU time when installed) says less about a loaded host than wall time.
  const time = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
  const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  const cpu = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  const load = [];
  for (let i = 0; i < runs; i++) {
    load.push(loadavg()[0]);
    for (const [name, [host, ...args]] of Object.entries(cases)) {
      if (host === first) {
        times[name].push(await untilFirstByte(args, { ...baseEnv, HYPR_HOST: host }));
        continue;
      }
      const start = process.hrtime.bigint();
      const env = { ...baseEnv, HYPR_HOST: host };
      const [cmd, argv] = time ? [time, ['-f', '%U %S', process.execPath, ...args]] : [process.execPath, args];
      const r = spawnSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], env, encoding: 'utf8' });
      times[name].push(Number(process.hrtime.bigint() - start) / 1e6);
      if (host && !host.endsWith('nobody.sock') && r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
      const [user, sys] = (r.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
      if (time) cpu[name].push((user + sys) * 1000);
    }
  }
  listener.close();
  const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
  const base = median(times['node -e 0']);
  const cpuBase = time && median(cpu['node -e 0']);
  console.log(
    `case                          median    × node -e 0${time ? '   CPU time  × node -e 0' : ''}   (${runs} runs)`,
  );
  for (const [name, t] of Object.entries(times)) {
    const wall = `${`${median(t).toFixed(0)} ms`.padStart(8)}    ${(median(t) / base).toFixed(2)}×`;
    const c =
      time && cpu[name].length
        ? `${`${median(cpu[name]).toFixed(0)} ms`.padStart(12)}    ${(median(cpu[name]) / cpuBase).toFixed(2)}×`
        : '';
    console.log(`${name.padEnd(30)}${wall}${c}`);
  }
  const [lo, hi] = [Math.min(...load), Math.max(...load)].map((x) => x.toFixed(1));
  console.log(`Node ${process.version}, ${cpus().length} × ${cpus()[0].model}, load average ${lo}–${hi}`);

  /** Spawns node ARGS and resolves with the ms until its first byte reaches first.sock; kills it then. */
  async function untilFirstByte(args, env) {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { stdio: 'ignore', env });
    const ms = await new Promise((resolve, reject) => {
      firstByte = () => resolve(Number(process.hrtime.bigint() - start) / 1e6);
      child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code} before its first RPC`)));
    });
    firstByte = undefined;
    child.removeAllListeners('exit');
    child.kill('SIGKILL');
    await new Promise((r) => (child.exitCode !== null || child.signalCode ? r() : child.once('exit', r)));
    return ms;
  }
} finally {
  daemon?.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
}
