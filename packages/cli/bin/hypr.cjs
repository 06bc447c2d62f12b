#!/usr/bin/env -S node --
// `hypr`, the npm bin. `node --`: Node 20 reads --env-file anywhere in argv (even after the script), so without
// the `--` `hypr run --env-file /missing IMAGE` would be refused by Node itself before hypr starts.
//
// CommonJS on purpose: `hypr --version`, `hypr ps` and `hypr run` (their fast paths, one CommonJS module in the
// bundle) then never start Node's ES module loader. Anything else, a fast path that declines, or a tree without a
// current bundle goes on in bin/run.js, which oclif, the bundles and the single executable start from.
'use strict';
const launch = require('./launch.cjs')(require('node:path').join(__dirname, '..'));

launch.quietOnClosedPipe();
if (launch.answerVersion(process.argv.slice(2))) process.exit(0);
const argv = launch.hoistGlobals(process.argv.slice(2));
const fast = launch.fastCommand(argv);
const mod = fast && launch.fastModule();
(async () => {
  if (mod && (await mod[fast.name](fast.args))) {
    // Served: on Linux exit now (with the exit status it set) rather than wait for Node to tear its heap
    // down; standard output and error are written synchronously there (files, pipes and terminals), so
    // nothing is lost. On macOS a pipe is written asynchronously: let Node end by itself.
    if (process.platform === 'linux') process.exit();
    return;
  }
  // bin/run.js reads what is done here off this object: argv without the globals, a fast path that declined.
  globalThis.__hyprLaunch = { argv, fastTried: Boolean(mod) };
  await import('./run.js');
})().catch((e) => {
  process.stderr.write(`hypr: ${e?.stack ?? e}\n`);
  process.exitCode = 1;
});
