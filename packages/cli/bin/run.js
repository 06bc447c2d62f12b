#!/usr/bin/env -S node --
// `node --`: Node 20 reads --env-file anywhere in argv (even after the script), so without the `--`
// `hypr run --env-file /missing IMAGE` would be refused by Node itself before hypr starts.
// hypr: docker's global -H/--host goes before the command (`hypr -H unix:///x.sock ps`); oclif
// only knows per-command flags, so take it (and --help/-v aliases docker has) off argv here.
//
// `pnpm build` writes dist/bundle/ (this file, oclif and a chunk per command, scripts/bundle.mjs); the
// packed @hypr/cli and the single executable also carry dist/hypr.mjs, all of it in one module. When a
// current bundle is there, this file only imports it.
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// A reader that stops early (`hypr info | grep -q …`, `hypr images | head -1`) closes the pipe: the rest
// of the output was not wanted, which is no failure. Exit 0 quietly instead of dying of EPIPE.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });

// `hypr --version` / `-v` is docker's client-only one-liner ("Docker version 27.3.1, build …"): answered
// here, before any module loads; `hypr version` is the command that also asks the daemon.
if (versionOnly(process.argv.slice(2))) {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`Hypr version ${version}\n`);
  process.exit(0);
}

// Inside a bundle, scripts/bundle.mjs sets this to the bundle's entry, relative to the package.
const bundled = globalThis.__hyprCliBundled;
const entry = bundled ? undefined : currentBundle();
if (entry) {
  await import(entry.href);
} else {
  const argv = process.argv.slice(2);
  while (argv.length) {
    const a = argv[0];
    if ((a === '-H' || a === '--host') && argv.length > 1) {
      process.env.HYPR_HOST = argv[1];
      argv.splice(0, 2);
    } else if (a.startsWith('--host=')) {
      process.env.HYPR_HOST = a.slice(7);
      argv.splice(0, 1);
    } else if (a === '-v' || a === '--version') {
      argv.splice(0, 1, 'version');
      break;
    } else break;
  }
  // `hypr ps` (and `container ls|list|ps`) with its common flags, and `hypr run` (and `container run`), are
  // served without oclif (src/fast-ps.ts, src/fast-run.ts); else, or when they decline, oclif runs.
  const sub = argv[0] === 'container' ? 1 : 0;
  const psArgs = (sub ? ['ls', 'list', 'ps'] : ['ps']).includes(argv[sub]) ? argv.slice(sub + 1) : undefined;
  const runArgs = argv[sub] === 'run' ? argv.slice(sub + 1) : undefined;
  const served = psArgs
    ? await (await import('../dist/fast-ps.js')).fastPs(psArgs)
    : runArgs
      ? await (await import('../dist/fast-run.js')).fastRun(runArgs)
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

/**
 * The bundle to run, if it is current: dist/bundle/hypr.mjs (written by `pnpm build`, a chunk per command)
 * while no file in its inputs.json is newer (this file, the manifest, one file of each tsc output tree it
 * took modules from: this package's, @hypr/api's, @hypr/core's; the pnpm lock), else dist/hypr.mjs (the
 * packed package's single module) when no build came after it. A stale bundle is never run: the modules
 * under dist/ are, as tsc wrote them.
 */
function currentBundle() {
  const split = new URL('../dist/bundle/hypr.mjs', import.meta.url);
  try {
    const made = statSync(split).mtimeMs;
    const inputs = JSON.parse(readFileSync(new URL('../dist/bundle/inputs.json', import.meta.url), 'utf8'));
    const root = new URL('../', import.meta.url);
    if (inputs.every((f) => !(statSync(new URL(f, root), { throwIfNoEntry: false })?.mtimeMs > made))) return split;
  } catch {
    /* no split bundle */
  }
  const single = new URL('../dist/hypr.mjs', import.meta.url);
  try {
    const manifest = statSync(new URL('../oclif.manifest.json', import.meta.url), { throwIfNoEntry: false });
    if (statSync(single).mtimeMs >= (manifest?.mtimeMs ?? 0)) return single;
  } catch {
    /* no bundle at all: the modules */
  }
  return undefined;
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

/** `-v`/`--version` after only docker's global -H/--host flags. */
function versionOnly(args) {
  let i = 0;
  while (i < args.length && (args[i] === '-H' || args[i] === '--host' || args[i].startsWith('--host=')))
    i += args[i].includes('=') ? 1 : 2;
  return args.length === i + 1 && (args[i] === '-v' || args[i] === '--version');
}
