#!/usr/bin/env node
// Writes oclif.manifest.json after the build, so `hypr` loads one command module per run instead of
// importing every command to discover them (~0.1 s of each invocation on a small machine).
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Config } from '@oclif/core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const file = join(root, 'oclif.manifest.json');
rmSync(file, { force: true });
const config = await Config.load({ root });
const plugin = config.plugins.get(config.pjson.name);
if (!plugin) throw new Error(`oclif plugin ${config.pjson.name} not found`);
writeFileSync(file, `${JSON.stringify(plugin.manifest, null, 2)}\n`);
// In the repo, format it as biome wants, so `biome check .` passes after a build.
try {
  const biome = createRequire(import.meta.url).resolve('@biomejs/biome/bin/biome');
  execFileSync(process.execPath, [biome, 'format', '--write', file], { stdio: 'ignore' });
} catch {
  /* installed from npm: no biome, nothing to satisfy */
}
console.log(`oclif.manifest.json: ${Object.keys(plugin.manifest.commands).length} commands`);
