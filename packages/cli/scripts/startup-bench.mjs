#!/usr/bin/env node
// CLI start-up, bundled against unbundled (docs/benchmarks.md, "CLI start-up"): copies the built
// package twice into a temp dir (node_modules linked to the workspace's), one copy with
// dist/hypr.mjs (scripts/bundle.mjs), and times `hypr --version` and `hypr ps` in each beside
// `node -e 0`, interleaved, median of N runs. No daemon: HYPR_HOST points at a socket nobody
// listens on, so both commands fail fast after the CLI has started (what is measured is start-up).
// Usage: node scripts/startup-bench.mjs [N=15]
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleCli } from './bundle.mjs';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 15);
const tmp = mkdtempSync(join(tmpdir(), 'hypr-startup-'));
try {
  const copy = (name) => {
    const dir = join(tmp, name);
    for (const f of ['bin', 'dist', 'package.json', 'oclif.manifest.json'])
      cpSync(join(pkg, f), join(dir, f), { recursive: true });
    symlinkSync(join(pkg, 'node_modules'), join(dir, 'node_modules'));
    return join(dir, 'bin/run.js');
  };
  const plain = copy('plain');
  const bundled = copy('bundled');
  await bundleCli(join(tmp, 'bundled/dist/hypr.mjs'));
  const cases = {
    'node -e 0': ['-e', '0'],
    'hypr --version (modules)': [plain, '--version'],
    'hypr --version (bundle)': [bundled, '--version'],
    'hypr ps (modules)': [plain, 'ps'],
    'hypr ps (bundle)': [bundled, 'ps'],
  };
  const env = { ...process.env, HYPR_HOST: `unix://${join(tmp, 'nobody.sock')}` };
  const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let i = 0; i < runs; i++)
    for (const [name, args] of Object.entries(cases)) {
      const start = process.hrtime.bigint();
      spawnSync(process.execPath, args, { stdio: 'ignore', env });
      times[name].push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  const median = (a) => a.sort((x, y) => x - y)[a.length >> 1];
  const base = median(times['node -e 0']);
  console.log(`case                        median    × node -e 0   (${runs} interleaved runs)`);
  for (const [name, t] of Object.entries(times))
    console.log(`${name.padEnd(28)}${`${median(t).toFixed(0)} ms`.padStart(8)}    ${(median(t) / base).toFixed(2)}×`);
  console.log(`Node ${process.version}, ${cpus().length} × ${cpus()[0].model}, load ${loadavg()[0].toFixed(1)}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
