#!/usr/bin/env -S node --
// `node --`: Node 20 reads --env-file anywhere in argv (even after the script), so without the `--`
// `hypr run --env-file /missing IMAGE` would be refused by Node itself before hypr starts.
// hypr: docker's global -H/--host goes before the command (`hypr -H unix:///x.sock ps`); oclif
// only knows per-command flags, so take it (and --help/-v aliases docker has) off argv here.
//
// The packed @hypr/cli (and the single executable) carry dist/hypr.mjs, this file and every command
// bundled into one module (scripts/bundle.mjs): when it is there, this file only imports it.
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// `hypr --version` / `-v` is docker's client-only one-liner ("Docker version 27.3.1, build …"): answered
// here, before any module loads; `hypr version` is the command that also asks the daemon.
if (versionOnly(process.argv.slice(2))) {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`Hypr version ${version}\n`);
  process.exit(0);
}

const bundled = globalThis.__hyprCliBundled === true;
const bundle = new URL('../dist/hypr.mjs', import.meta.url);
if (!bundled && bundleIsCurrent()) {
  await import(bundle.href);
} else {
  const { execute } = await import('@oclif/core');
  const { hoistComposeGlobals } = await import('../dist/compose-argv.js');
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
  execute({ args: hoistComposeGlobals(argv), dir: import.meta.url, loadOptions: bundled ? bundleConfig() : undefined });
}

/** The bundle is there and no build came after it (a `pnpm pack` cut short leaves one behind in a checkout). */
function bundleIsCurrent() {
  try {
    const manifest = statSync(new URL('../oclif.manifest.json', import.meta.url), { throwIfNoEntry: false });
    return statSync(bundle).mtimeMs >= (manifest?.mtimeMs ?? 0);
  } catch {
    return false;
  }
}

/** In the bundle, oclif takes its commands and hook from the bundle's exports instead of dist/. */
function bundleConfig() {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const target = './dist/hypr.mjs';
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
