// What every way of starting hypr does before a command runs, in CommonJS: bin/hypr.cjs (the npm bin) runs it
// without Node's ES module loader, whose start alone costs ~20 ms here; bin/run.js (the ES module entry that
// oclif, the bundles and the single executable start from) imports the same functions.
'use strict';
const { readFileSync, statSync } = require('node:fs');
const { join } = require('node:path');

/** The functions, for the package whose root is `root` (a bundle has no __dirname: its entry says where). */
module.exports = function launcher(root) {
  /**
   * A reader that stops early (`hypr info | grep -q …`, `hypr images | head -1`) closes the pipe: the rest of
   * the output was not wanted, which is no failure. Exit 0 quietly instead of dying of EPIPE.
   */
  function quietOnClosedPipe() {
    for (const stream of [process.stdout, process.stderr])
      stream.on('error', (e) => {
        if (e.code === 'EPIPE') process.exit(0);
        throw e;
      });
  }

  /** `-v`/`--version` after only docker's global -H/--host flags. */
  function versionOnly(args) {
    let i = 0;
    while (i < args.length && (args[i] === '-H' || args[i] === '--host' || args[i].startsWith('--host=')))
      i += args[i].includes('=') ? 1 : 2;
    return args.length === i + 1 && (args[i] === '-v' || args[i] === '--version');
  }

  /**
   * `hypr --version` / `-v` is docker's client-only one-liner ("Docker version 27.3.1, build …"): answered before
   * any module loads; `hypr version` is the command that also asks the daemon. True when it answered.
   */
  function answerVersion(args) {
    if (!versionOnly(args)) return false;
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    process.stdout.write(`Hypr version ${version}\n`);
    return true;
  }

  /**
   * docker's global -H/--host goes before the command (`hypr -H unix:///x.sock ps`); oclif only knows
   * per-command flags, so it is taken off argv here (into HYPR_HOST), and `-v`/`--version` among other
   * arguments becomes the `version` command. Returns the rest of argv.
   */
  function hoistGlobals(args) {
    const argv = [...args];
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
    return argv;
  }

  /**
   * `hypr ps` (and `container ls|list|ps`) and `hypr run` (and `container run`) have fast paths that serve their
   * common forms without oclif (src/fast-ps.ts, src/fast-run.ts): which one argv asks for, with its arguments.
   */
  function fastCommand(argv) {
    const sub = argv[0] === 'container' ? 1 : 0;
    if ((sub ? ['ls', 'list', 'ps'] : ['ps']).includes(argv[sub])) return { name: 'fastPs', args: argv.slice(sub + 1) };
    if (argv[sub] === 'run') return { name: 'fastRun', args: argv.slice(sub + 1) };
    return undefined;
  }

  /**
   * Whether the split bundle (dist/bundle/, written by `pnpm build`: scripts/bundle.mjs --split) is current: no
   * file in its inputs.json is newer than its entry (this directory's entries, the manifest, one file of each
   * tsc output tree it took modules from, the pnpm lock). A stale bundle is never run.
   */
  let splitCurrent;
  function splitBundleCurrent() {
    splitCurrent ??= splitBundleIsCurrent();
    return splitCurrent;
  }

  function splitBundleIsCurrent() {
    try {
      const made = statSync(join(root, 'dist/bundle/hypr.mjs')).mtimeMs;
      const inputs = JSON.parse(readFileSync(join(root, 'dist/bundle/inputs.json'), 'utf8'));
      return inputs.every((f) => !(statSync(join(root, f), { throwIfNoEntry: false })?.mtimeMs > made));
    } catch {
      return false;
    }
  }

  /**
   * The bundle to run, as a path: dist/bundle/hypr.mjs while it is current, else dist/hypr.mjs (the packed
   * package's single module) when no build came after it, else undefined: the modules under dist/, as tsc
   * wrote them.
   */
  function currentBundle() {
    if (splitBundleCurrent()) return join(root, 'dist/bundle/hypr.mjs');
    const single = join(root, 'dist/hypr.mjs');
    try {
      const manifest = statSync(join(root, 'oclif.manifest.json'), { throwIfNoEntry: false });
      if (statSync(single).mtimeMs >= (manifest?.mtimeMs ?? 0)) return single;
    } catch {
      /* no bundle at all */
    }
    return undefined;
  }

  /**
   * The fast paths as one CommonJS module (dist/bundle/fast.cjs, written with the split bundle), while that
   * bundle is current; else undefined (bin/run.js then imports them from dist/).
   */
  function fastModule() {
    if (!splitBundleCurrent()) return undefined;
    try {
      return require(join(root, 'dist/bundle/fast.cjs'));
    } catch (e) {
      if (e.code === 'MODULE_NOT_FOUND') return undefined; // a bundle written before fast.cjs existed
      throw e;
    }
  }

  return { answerVersion, currentBundle, fastCommand, fastModule, hoistGlobals, quietOnClosedPipe };
};
