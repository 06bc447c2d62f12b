#!/usr/bin/env node
// Bundles hypr into one ES module, dist/hypr.mjs, with esbuild: bin/run.js, every command (oclif's
// explicit strategy: a map of command classes instead of scanning dist/commands) and their
// dependencies. bin/run.js uses it when it is there: the packed @hypr/cli carries it (prepack writes
// it, postpack removes it, so the workspace keeps running its tsc output), and scripts/build-sea.sh
// embeds it in the single executable. Starting one 1.4 MB module is cheaper than resolving and
// compiling a few hundred small ones (docs/benchmarks.md, "CLI start-up").
// Usage: node scripts/bundle.mjs [OUTFILE]   (default dist/hypr.mjs; run after tsc and manifest.js)
import { readFileSync } from 'node:fs';
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
 * import.meta.url of each module of this package becomes that module's own place in the package
 * (`new URL('../../package.json', import.meta.url)` in dist/commands/version.js still finds the
 * package.json), computed from where the bundle sits.
 */
function ownUrls() {
  // The bundle always sits in the package's dist/ (here, in the packed tarball, in the single
  // executable's tree), so the package root is one level up from it.
  const up = '..';
  return {
    name: 'hypr-own-urls',
    setup(b) {
      b.onLoad({ filter: /\.js$/ }, (args) => {
        if (!args.path.startsWith(pkg + sep) || args.path.includes(`${sep}node_modules${sep}`)) return undefined;
        const text = readFileSync(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        const rel = relative(pkg, args.path).split(sep).join('/');
        const url = `new URL(${JSON.stringify(`${up}/${rel}`)}, import.meta.url).href`;
        return { contents: text.replaceAll('import.meta.url', url), loader: 'js' };
      });
    },
  };
}

/** Writes the bundle to OUTFILE, which must be `<a copy of this package>/dist/<name>.mjs`. */
export async function bundleCli(outfile = join(pkg, 'dist/hypr.mjs')) {
  const { build } = await import('esbuild');
  const manifest = JSON.parse(readFileSync(join(pkg, 'oclif.manifest.json'), 'utf8'));
  const ids = Object.keys(manifest.commands).sort();
  const commands = [
    ...ids.map((id, i) => `import C${i} from './${manifest.commands[id].relativePath.join('/')}';`),
    "export { default as commandNotFound } from './dist/hooks/command-not-found.js';",
    `export const COMMANDS = { ${ids.map((id, i) => `${JSON.stringify(id)}: C${i}`).join(', ')} };`,
  ].join('\n');
  await build({
    stdin: {
      contents: [
        "import 'hypr-bundled';",
        "export { COMMANDS, commandNotFound } from 'hypr-commands';",
        "import './bin/run.js';",
      ].join('\n'),
      resolveDir: pkg,
      loader: 'js',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: resolve(outfile),
    // oclif reads a tsconfig.json with typescript only in a development tree: 9 MB left out.
    external: ['typescript', 'ts-node'],
    banner: {
      js: "import { createRequire as __hyprCR } from 'node:module'; const require = __hyprCR(import.meta.url);",
    },
    plugins: [
      virtual('hypr-bundled', 'globalThis.__hyprCliBundled = true;'),
      virtual('hypr-commands', commands),
      ownUrls(),
    ],
    logLevel: 'warning',
    legalComments: 'none',
    minifySyntax: true,
    minifyWhitespace: true,
  });
  return { outfile: resolve(outfile), commands: ids.length };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { outfile, commands } = await bundleCli(process.argv[2]);
  console.log(`bundle: ${relative(process.cwd(), outfile)} (${commands} commands)`);
}
