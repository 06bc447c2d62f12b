#!/usr/bin/env node
// Bundles hypr into one ES module, dist/hypr.mjs, with esbuild: bin/run.js, every command (oclif's
// explicit strategy: a map of command classes instead of scanning dist/commands) and their
// dependencies. bin/run.js uses it when it is there: the packed @hypr/cli carries it (prepack writes
// it, postpack removes it, so the workspace keeps running its tsc output), and scripts/build-sea.sh
// embeds it in the single executable. Starting one 1.4 MB module is cheaper than resolving and
// compiling a few hundred small ones (docs/benchmarks.md, "CLI start-up").
// Usage: node scripts/bundle.mjs [OUTFILE]   (default dist/hypr.mjs; run after tsc and manifest.js)
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A virtual module `name` with `contents`, resolved from the package. */
function virtual(name, contents) {
  return {
    name: `virtual-${name}`,
    setup(b) {
      b.onResolve({ filter: new RegExp(`^${name}$`) }, () => ({ path: name, namespace: 'hypr-virtual' }));
      b.onLoad({ filter: new RegExp(`^${name}$`), namespace: 'hypr-virtual' }, () => ({
        contents,
        resolveDir: pkg,
        loader: 'js',
      }));
    },
  };
}

/**
 * Rewrites this package's own modules as they enter the bundle:
 * - import.meta.url of each becomes that module's own place in the package (`new URL('../../package.json',
 *   import.meta.url)` in dist/commands/version.js still finds the package.json), computed from where the
 *   bundle sits; `up` leads from the bundle's files to the package root: `..` from dist/hypr.mjs (here, in
 *   the packed tarball, in the single executable's tree), `../..` from dist/bundle/*.mjs;
 * - with `apiModules` (export name → file of @hypr/api), `import { A, B } from '@hypr/api'` imports each
 *   name from the module that defines it: through the package's index, every command's chunk would
 *   carry (and evaluate) every service's descriptors, which its client loads on first use instead.
 */
function ownSources(up, apiModules) {
  return {
    name: 'hypr-own-sources',
    setup(b) {
      b.onLoad({ filter: /\.js$/ }, (args) => {
        if (!args.path.startsWith(pkg + sep) || args.path.includes(`${sep}node_modules${sep}`)) return undefined;
        let text = readFileSync(args.path, 'utf8');
        const urls = text.includes('import.meta.url');
        const api = apiModules && text.includes("from '@hypr/api'");
        if (!urls && !api) return undefined;
        if (urls) {
          const rel = relative(pkg, args.path).split(sep).join('/');
          text = text.replaceAll('import.meta.url', `new URL(${JSON.stringify(`${up}/${rel}`)}, import.meta.url).href`);
        }
        if (api)
          text = text.replace(/import\s*\{([^}]*)\}\s*from\s*'@hypr\/api';/g, (_, names) =>
            apiImports(names, apiModules),
          );
        return { contents: text, loader: 'js' };
      });
    },
  };
}

/** `import { names } from '@hypr/api'` as one import per defining module (unknown names stay on the index). */
function apiImports(names, apiModules) {
  const byFile = new Map();
  for (const spec of names
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean)) {
    const file = apiModules.get(spec.split(/\s+as\s+/)[0]) ?? '@hypr/api';
    byFile.set(file, [...(byFile.get(file) ?? []), spec]);
  }
  return [...byFile].map(([file, specs]) => `import { ${specs.join(', ')} } from ${JSON.stringify(file)};`).join(' ');
}

/** Each export of @hypr/api's index and the module of its dist that defines it. */
async function apiExportFiles() {
  const dist = resolve(pkg, '../api/dist');
  const files = [
    ...['client-socket.js', 'client-lazy.js', 'client.js', 'units.js'],
    ...readdirSync(join(dist, 'gen/hypr/v1'))
      .filter((f) => f.endsWith('_pb.js'))
      .map((f) => `gen/hypr/v1/${f}`),
  ];
  const modules = new Map();
  for (const f of files) {
    const path = join(dist, f);
    if (!existsSync(path)) continue;
    for (const name of Object.keys(await import(pathToFileURL(path).href)))
      if (!modules.has(name)) modules.set(name, path);
  }
  return modules;
}

/** The command map: `COMMANDS` for oclif's explicit strategy, each command imported (`lazy`: on first use). */
function commandsModule(lazy) {
  const manifest = JSON.parse(readFileSync(join(pkg, 'oclif.manifest.json'), 'utf8'));
  const ids = Object.keys(manifest.commands).sort();
  const file = (id) => `./${manifest.commands[id].relativePath.join('/')}`;
  const hook = './dist/hooks/command-not-found.js';
  if (!lazy)
    return {
      ids,
      contents: [
        ...ids.map((id, i) => `import C${i} from '${file(id)}';`),
        `export { default as commandNotFound } from '${hook}';`,
        `export const COMMANDS = { ${ids.map((id, i) => `${JSON.stringify(id)}: C${i}`).join(', ')} };`,
      ].join('\n'),
    };
  // oclif takes a command from the map only to call its static run(argv, config) (after setting id and
  // plugin on it): a stand-in that imports the real class then, so `hypr ps` compiles only ps's chunk.
  return {
    ids,
    contents: [
      'function lazy(load) {',
      '  const stub = { async run(argv, config) {',
      '    const C = (await load()).default;',
      '    C.id = stub.id; C.plugin = stub.plugin;',
      '    return C.run(argv, config);',
      '  } };',
      '  return stub;',
      '}',
      `export async function commandNotFound(opts) { return (await import('${hook}')).default.call(this, opts); }`,
      `export const COMMANDS = { ${ids.map((id) => `${JSON.stringify(id)}: lazy(() => import('${file(id)}'))`).join(', ')} };`,
    ].join('\n'),
  };
}

/** What every esbuild build here shares: one bundle for node 20, minified, quiet unless warned. */
const NODE_BUNDLE = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  legalComments: 'none',
  minifySyntax: true,
  minifyWhitespace: true,
};

/** The ES module bundles' options (dist/hypr.mjs, dist/bundle/): `require` available, this package's own URLs. */
function commonOptions(contents, lazy, apiModules) {
  return {
    ...NODE_BUNDLE,
    format: 'esm',
    // oclif reads a tsconfig.json with typescript only in a development tree: 9 MB left out.
    external: ['typescript', 'ts-node'],
    banner: {
      js: "import { createRequire as __hyprCR } from 'node:module'; const require = __hyprCR(import.meta.url);",
    },
    plugins: [
      virtual(
        'hypr-entry',
        [
          "import 'hypr-bundled';",
          "export { COMMANDS, commandNotFound } from 'hypr-commands';",
          "import './bin/run.js';",
        ].join('\n'),
      ),
      virtual(
        'hypr-bundled',
        `globalThis.__hyprCliBundled = ${JSON.stringify(lazy ? './dist/bundle/hypr.mjs' : './dist/hypr.mjs')};`,
      ),
      virtual('hypr-commands', contents),
      ownSources(lazy ? '../..' : '..', apiModules),
    ],
  };
}

/** Writes the bundle to OUTFILE, which must be `<a copy of this package>/dist/<name>.mjs`: one module (the single executable). */
export async function bundleCli(outfile = join(pkg, 'dist/hypr.mjs')) {
  const { build } = await import('esbuild');
  const { ids, contents } = commandsModule(false);
  await build({ ...commonOptions(contents, false), entryPoints: ['hypr-entry'], outfile: resolve(outfile) });
  return { outfile: resolve(outfile), commands: ids.length };
}

/**
 * Writes OUTDIR (`<a copy of this package>/dist/bundle`): hypr.mjs, the entry (bin/run.js and oclif), a chunk
 * per command loaded when that command runs, the chunks they share, fast.cjs (the fast paths for bin/hypr.cjs),
 * and inputs.json (files of this checkout,
 * relative to the package, that a build rewrites: bin/run.js uses the bundle only while none is newer).
 */
export async function bundleCliSplit(outdir = join(pkg, 'dist/bundle')) {
  const { build } = await import('esbuild');
  const { ids, contents } = commandsModule(true);
  rmSync(outdir, { recursive: true, force: true });
  const { metafile } = await build({
    ...commonOptions(contents, true, await apiExportFiles()),
    entryPoints: { hypr: 'hypr-entry' },
    outdir: resolve(outdir),
    splitting: true,
    chunkNames: '[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    metafile: true,
  });
  // The fast paths (`hypr ps`, `hypr run`) as one CommonJS module: bin/hypr.cjs requires it without starting
  // Node's ES module loader.
  const fast = await build({
    ...NODE_BUNDLE,
    format: 'cjs',
    entryPoints: ['hypr-fast'],
    outfile: join(resolve(outdir), 'fast.cjs'),
    plugins: [
      virtual(
        'hypr-fast',
        "export { fastPs } from './dist/fast-ps.js';\nexport { fastRun } from './dist/fast-run.js';",
      ),
    ],
    metafile: true,
  });
  // tsc rewrites every file of its output tree on each build: one file per tree the bundle took modules
  // from stands for all of them (a stat costs ~0.2 ms here, every input would cost 50 ms per command).
  const trees = new Map();
  for (const input of [...Object.keys(metafile.inputs), ...Object.keys(fast.metafile.inputs)]) {
    const rel = relative(pkg, resolve(input)).split(sep).join('/');
    const tree = rel.match(/^(?:\.\.\/[^/]+\/)?dist\//)?.[0];
    if (tree && !trees.has(tree)) trees.set(tree, rel);
  }
  // bin/run.js and bin/launch.cjs are in the bundle too; oclif reads the manifest; a pnpm install rewrites
  // its lock file.
  const lock = resolve(pkg, '../../node_modules/.pnpm/lock.yaml');
  const watched = [
    'bin/run.js',
    'bin/launch.cjs',
    'oclif.manifest.json',
    ...trees.values(),
    ...(existsSync(lock) ? [relative(pkg, lock)] : []),
  ];
  writeFileSync(join(outdir, 'inputs.json'), `${JSON.stringify(watched)}\n`);
  return { outdir: resolve(outdir), commands: ids.length, watched, chunks: Object.keys(metafile.outputs).length };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] === '--split') {
    const { outdir, commands, chunks, watched } = await bundleCliSplit(process.argv[3]);
    console.log(
      `bundle: ${relative(process.cwd(), outdir)} (${commands} commands, ${chunks} files; used while none is newer: ${watched.join(' ')})`,
    );
  } else {
    const { outfile, commands } = await bundleCli(process.argv[2]);
    console.log(`bundle: ${relative(process.cwd(), outfile)} (${commands} commands)`);
  }
}
