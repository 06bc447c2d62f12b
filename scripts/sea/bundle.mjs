#!/usr/bin/env node
// Bundles hyprd and hypr with esbuild for the single executables (scripts/build-sea.sh) and lays out
// what each binary carries: a tree that mirrors the repository where the code looks for files
// beside itself (import.meta.url), so the bundles find drizzle/, the pull process, the disk worker, the
// guest and the SQLite addon as they do in an installed package. Usage: bundle.mjs OUTDIR
//
//   OUTDIR/<bin>/tree/…        the files the binary extracts (bundles, migrations, guest, addon)
//   OUTDIR/<bin>/index.json    what to extract: path, mode, size and sha256 of each file
//   OUTDIR/<bin>/sea-config.json
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');
const out = process.argv[2];
if (!out) {
  console.error('usage: bundle.mjs OUTDIR');
  process.exit(2);
}

/** Each bundle's banner: `require` for CommonJS dependencies, and where the tree is from this file. */
function banner(fileInTree) {
  const up = relative(dirname(fileInTree), '.').split(sep).join('/') || '.';
  return [
    "import { createRequire as __hyprSeaCR } from 'node:module';",
    'const require = __hyprSeaCR(import.meta.url);',
    `const __hyprSeaTree = new URL('${up}/', import.meta.url);`,
    'const __hyprSeaUrl = (p) => new URL(p, __hyprSeaTree).href;',
    // A module's own require (createRequire(import.meta.url)) sees the modules the entry bundled first.
    'const __hyprSeaCreateRequire = (p) => { const real = __hyprSeaCR(__hyprSeaUrl(p));',
    '  const r = (id) => globalThis.__hyprSeaModules?.[id] ?? real(id); r.resolve = real.resolve; return r; };',
  ].join('\n');
}

/**
 * import.meta.url of every workspace module becomes its place in the tree, as if it had not been
 * bundled; better-sqlite3's `bindings` loads the addon from the tree.
 */
const treeUrls = {
  name: 'hypr-tree-urls',
  setup(b) {
    b.onLoad({ filter: /[\\/]packages[\\/][^\\/]+[\\/](dist|bin)[\\/].*\.js$/ }, (args) => {
      let text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const rel = JSON.stringify(relative(repo, args.path).split(sep).join('/'));
      text = text
        .replaceAll('createRequire(import.meta.url)', `__hyprSeaCreateRequire(${rel})`)
        .replaceAll('import.meta.url', `__hyprSeaUrl(${rel})`);
      return { contents: text, loader: 'js' };
    });
    b.onResolve({ filter: /^bindings$/ }, () => ({ path: 'bindings', namespace: 'hypr-sea' }));
    b.onLoad({ filter: /^bindings$/, namespace: 'hypr-sea' }, () => ({
      contents:
        "module.exports = (name) => { const m = { exports: {} }; process.dlopen(m, require('node:url').fileURLToPath(__hyprSeaUrl('native/' + name))); return m.exports; };",
      loader: 'js',
    }));
  },
};

async function bundle(entry, fileInTree, tree, opts = {}) {
  const outfile = join(tree, fileInTree);
  await build({
    ...entry,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    // oclif reads a tsconfig.json with typescript only in a development tree: 9 MB left out.
    external: ['typescript', 'ts-node'],
    banner: { js: banner(fileInTree) },
    plugins: [treeUrls, ...(opts.plugins ?? [])],
    logLevel: 'warning',
    legalComments: 'none',
    minifySyntax: true,
    minifyWhitespace: true,
  });
  return outfile;
}

/** A virtual module `name` with `contents`, resolved from `resolveDir`. */
function virtual(name, contents, resolveDir) {
  return {
    name: `virtual-${name}`,
    setup(b) {
      b.onResolve({ filter: new RegExp(`^${name}$`) }, () => ({ path: name, namespace: 'hypr-virtual' }));
      b.onLoad({ filter: new RegExp(`^${name}$`), namespace: 'hypr-virtual' }, () => ({
        contents,
        resolveDir,
        loader: 'js',
      }));
    },
  };
}

function writeJson(file, value) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

function pkgJson(name) {
  return JSON.parse(readFileSync(join(repo, 'packages', name, 'package.json'), 'utf8'));
}

function copy(from, to) {
  mkdirSync(dirname(to), { recursive: true });
  cpSync(from, to, { recursive: true, dereference: true });
}

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** index.json and sea-config.json for one binary: every file of the tree is an asset. */
function finish(bin, entry) {
  const dir = join(out, bin);
  const tree = join(dir, 'tree');
  const files = walk(tree)
    .sort()
    .map((f) => {
      const data = readFileSync(f);
      return {
        path: relative(tree, f).split(sep).join('/'),
        mode: statSync(f).mode & 0o777,
        sizeBytes: data.length,
        sha256: createHash('sha256').update(data).digest('hex'),
      };
    });
  const buildId = createHash('sha256').update(JSON.stringify(files)).digest('hex').slice(0, 16);
  writeJson(join(dir, 'index.json'), { bin, buildId, entry, files });
  const assets = { 'index.json': join(dir, 'index.json') };
  for (const f of files) assets[`tree/${f.path}`] = join(tree, f.path);
  writeJson(join(dir, 'sea-config.json'), {
    main: join(repo, 'scripts/sea/sea-main.cjs'),
    output: join(dir, 'sea-prep.blob'),
    disableExperimentalSEAWarning: true,
    useCodeCache: false,
    assets,
  });
  const total = files.reduce((n, f) => n + f.sizeBytes, 0);
  console.log(`bundle: ${bin}: ${files.length} files, ${(total / 1048576).toFixed(1)} MiB of assets, build ${buildId}`);
}

async function bundleHyprd() {
  const tree = join(out, 'hyprd/tree');
  rmSync(join(out, 'hyprd'), { recursive: true, force: true });
  writeJson(join(tree, 'package.json'), { type: 'module' });
  const daemonDir = join(repo, 'packages/daemon');
  // The SQLite driver is required lazily by core's state module: give it the bundled copies.
  const register = virtual(
    'hypr-sea-register',
    [
      "import Database from 'better-sqlite3';",
      "import * as drizzleSqlite from 'drizzle-orm/better-sqlite3';",
      "globalThis.__hyprSeaModules = { 'better-sqlite3': Database, 'drizzle-orm/better-sqlite3': drizzleSqlite };",
    ].join('\n'),
    daemonDir,
  );
  await bundle(
    {
      stdin: {
        contents: "import 'hypr-sea-register';\nimport './bin/hyprd.js';\n",
        resolveDir: daemonDir,
        loader: 'js',
      },
    },
    'packages/daemon/bin/hyprd.js',
    tree,
    { plugins: [register] },
  );
  const core = join(repo, 'packages/core');
  await bundle(
    { entryPoints: [join(core, 'dist/rootfs/disk-worker.js')] },
    'packages/core/dist/rootfs/disk-worker.js',
    tree,
  );
  // hyprd downloads each pull in a process of its own: this binary again, running this script.
  await bundle(
    { entryPoints: [join(core, 'dist/image/pull-process.js')] },
    'packages/core/dist/image/pull-process.js',
    tree,
  );
  copy(join(core, 'drizzle'), join(tree, 'packages/core/drizzle'));
  const { name, version } = pkgJson('daemon');
  writeJson(join(tree, 'packages/daemon/package.json'), { name, version, type: 'module' });
  const sqlite = dirname(createRequire(join(daemonDir, 'package.json')).resolve('better-sqlite3/package.json'));
  copy(join(sqlite, 'build/Release/better_sqlite3.node'), join(tree, 'native/better_sqlite3.node'));
  for (const f of ['vmlinux', 'kestrel']) copy(join(repo, 'guest/out', f), join(tree, 'guest', f));
  // The per-container supervisor (shim/hypr-shim.c) sits with the guest, as in @hypr/guest-linux-<arch>.
  copy(join(repo, 'shim/out/hypr-shim'), join(tree, 'guest/hypr-shim'));
  for (const f of ['kestrel', 'hypr-shim']) chmodSync(join(tree, 'guest', f), 0o755);
  finish('hyprd', 'packages/daemon/bin/hyprd.js');
}

async function bundleHypr() {
  const tree = join(out, 'hypr/tree');
  rmSync(join(out, 'hypr'), { recursive: true, force: true });
  writeJson(join(tree, 'package.json'), { type: 'module' });
  // The same bundle as the packed @hypr/cli's dist/hypr.mjs, beside its package.json and manifest.
  const { bundleCli } = await import(pathToFileURL(join(repo, 'packages/cli/scripts/bundle.mjs')).href);
  await bundleCli(join(tree, 'packages/cli/dist/hypr.mjs'));
  const { name, version, oclif } = pkgJson('cli');
  writeJson(join(tree, 'packages/cli/package.json'), { name, version, type: 'module', oclif });
  copy(join(repo, 'packages/cli/oclif.manifest.json'), join(tree, 'packages/cli/oclif.manifest.json'));
  finish('hypr', 'packages/cli/dist/hypr.mjs');
}

const which = process.argv[3];
if (!which || which === 'hyprd') await bundleHyprd();
if (!which || which === 'hypr') await bundleHypr();
