#!/usr/bin/env -S node --
// `node --`: Node 20 reads --env-file anywhere in argv (even after the script), so without the `--`
// `hypr run --env-file /missing IMAGE` would be refused by Node itself before hypr starts.
// hypr: docker's global -H/--host goes before the command (`hypr -H unix:///x.sock ps`); oclif
// only knows per-command flags, so take it (and --help/-v aliases docker has) off argv here.
//
// `pnpm build` writes dist/bundle/ (this file, oclif and a chunk per command, scripts/bundle.mjs); the
// packed @hypr/cli and the single executable also carry dist/hypr.mjs, all of it in one module. When a
// current bundle is there, this file only imports it.
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import launcher from './launch.cjs';

const launch = launcher(fileURLToPath(new URL('..', import.meta.url)));

// Started by bin/hypr.cjs (the npm bin), which has done the steps before a command already: its argv, and
// whether a fast path declined.
const launched = globalThis.__hyprLaunch;
if (!launched) {
  launch.quietOnClosedPipe();
  if (launch.answerVersion(process.argv.slice(2))) process.exit(0);
}

// Inside a bundle, scripts/bundle.mjs sets this to the bundle's entry, relative to the package.
const bundled = globalThis.__hyprCliBundled;
const entry = bundled ? undefined : launch.currentBundle();
if (entry) {
  await import(pathToFileURL(entry).href);
} else {
  const argv = launched?.argv ?? launch.hoistGlobals(process.argv.slice(2));
  // `hypr ps` (and `container ls|list|ps`) with its common flags, and `hypr run` (and `container run`), are
  // served without oclif (src/fast-ps.ts, src/fast-run.ts); else, or when they decline, oclif runs.
  const fast = launched?.fastTried ? undefined : launch.fastCommand(argv);
  const served = fast
    ? await (await import(fast.name === 'fastPs' ? '../dist/fast-ps.js' : '../dist/fast-run.js'))[fast.name](fast.args)
    : false;
  if (!served) {
    // oclif is CommonJS: in a split bundle its chunk has only a default export
    const oclif = await import('@oclif/core');
    const { execute } = oclif.default ?? oclif;
    const { hoistComposeGlobals } = await import('../dist/compose-argv.js');
    const loadOptions = bundled ? bundleConfig(bundled) : undefined;
    execute({ args: hoistComposeGlobals(argv), dir: import.meta.url, loadOptions });
  }
}

/** In the bundle, oclif takes its commands and hook from the bundle's exports instead of dist/. */
function bundleConfig(target) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  pjson.oclif = {
    ...pjson.oclif,
    commands: { strategy: 'explicit', target, identifier: 'COMMANDS' },
    hooks: { command_not_found: { target, identifier: 'commandNotFound' } },
  };
  return { root, pjson };
}
