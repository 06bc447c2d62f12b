// The main script of HYPR's single executables (hypr, hyprd; see scripts/build-sea.sh). The binary
// carries a tree of files as SEA assets (the esbuild bundles, the state migrations, the guest kernel
// and Kestrel, the SQLite addon): they are extracted once to $HYPR_CACHE/sea/<build> (default
// ~/.cache/hypr), each checked against its sha256, and the bundle is run from there. Node 20's SEA
// main cannot import() ES modules, so a one-line CommonJS loader in the cache does it.
//
// The same binary runs the other scripts of its tree (`process.execPath <tree>/…/x.js ARGS`), which
// for a single executable is this binary again.
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const { createRequire } = require('node:module');
const os = require('node:os');
const path = require('node:path');
const sea = require('node:sea');
const { pathToFileURL } = require('node:url');

const LOADER = 'module.exports = (url) => import(url);\n';

function fail(message) {
  process.stderr.write(`${path.basename(process.execPath)}: ${message}\n`);
  process.exit(125);
}

function cacheBase() {
  if (process.env.HYPR_CACHE) return path.resolve(process.env.HYPR_CACHE);
  const xdg = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(xdg, 'hypr');
}

/** Writes every file of the tree into a fresh directory, each checked against the index, then renames it in place. */
function extract(index, root) {
  const tmp = `${root}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  for (const f of index.files) {
    const data = Buffer.from(sea.getAsset(`tree/${f.path}`));
    const sha = createHash('sha256').update(data).digest('hex');
    if (data.length !== f.sizeBytes || sha !== f.sha256)
      fail(`the embedded ${f.path} is corrupt (sha256 ${sha.slice(0, 12)}…, expected ${f.sha256.slice(0, 12)}…)`);
    const file = path.join(tmp, 'tree', f.path);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, data, { mode: f.mode });
    fs.chmodSync(file, f.mode);
  }
  fs.writeFileSync(path.join(tmp, 'loader.cjs'), LOADER);
  fs.writeFileSync(path.join(tmp, 'index.json'), JSON.stringify(index));
  try {
    fs.renameSync(tmp, root);
  } catch (e) {
    // Another process extracted the same build first: use its copy.
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(path.join(root, 'index.json'))) throw e;
  }
}

/** The extracted tree of this build, extracting it on first use; a partial or altered copy is replaced. */
function ensureTree(index) {
  const base = path.join(cacheBase(), 'sea');
  const root = path.join(base, `${index.bin}-${index.buildId}`);
  const complete = () =>
    fs.existsSync(path.join(root, 'index.json')) &&
    index.files.every((f) => {
      try {
        return fs.statSync(path.join(root, 'tree', f.path)).size === f.sizeBytes;
      } catch {
        return false;
      }
    });
  if (!complete()) {
    fs.mkdirSync(base, { recursive: true, mode: 0o700 });
    fs.rmSync(root, { recursive: true, force: true });
    extract(index, root);
  }
  return root;
}

function main() {
  const index = JSON.parse(sea.getAsset('index.json', 'utf8'));
  let root;
  try {
    root = ensureTree(index);
  } catch (e) {
    fail(`cannot extract to ${cacheBase()}/sea: ${e.message} (set HYPR_CACHE to a writable directory)`);
  }
  const tree = path.join(root, 'tree');
  if (index.files.some((f) => f.path === 'guest/vmlinux') && !process.env.HYPR_GUEST_DIR)
    process.env.HYPR_GUEST_DIR = path.join(tree, 'guest');
  // `binary <tree>/x.js ARGS` runs that script of the tree; else the entry.
  const arg = process.argv[2];
  const own = arg && path.isAbsolute(arg) && arg.startsWith(`${tree}${path.sep}`) && arg.endsWith('.js');
  const script = own ? arg : path.join(tree, index.entry);
  process.argv = [process.execPath, script, ...process.argv.slice(own ? 3 : 2)];
  const load = createRequire(path.join(root, 'loader.cjs'))(path.join(root, 'loader.cjs'));
  load(pathToFileURL(script).href).catch((e) => fail(e?.stack ?? String(e)));
}

main();
