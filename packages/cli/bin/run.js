#!/usr/bin/env -S node --
// `node --`: Node 20 reads --env-file anywhere in argv (even after the script), so without the `--`
// `hypr run --env-file /missing IMAGE` would be refused by Node itself before hypr starts.
// hypr: docker's global -H/--host goes before the command (`hypr -H unix:///x.sock ps`); oclif
// only knows per-command flags, so take it (and --help/-v aliases docker has) off argv here.
import { execute } from '@oclif/core';
import { hoistComposeGlobals } from '../dist/compose-argv.js';

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
// Not awaited (execute handles its own errors): in the bundle of hypr (scripts/sea/bundle.mjs) this
// module is also the one oclif imports for its command map, and a top-level await would make that
// import wait for itself.
execute({ args: hoistComposeGlobals(argv), dir: import.meta.url });
