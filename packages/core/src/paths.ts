import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HyprError } from './errors.js';

/** Every location HYPR uses, resolved once. HYPR_HOME overrides the data directory. */
export interface HyprPaths {
  /** State directory: $HYPR_HOME, /var/lib/hypr as root, ~/.local/share/hypr otherwise. */
  data: string;
  /** Runtime directory for sockets: /run/hypr as root, $XDG_RUNTIME_DIR/hypr otherwise. */
  run: string;
  socket: string;
  db: string;
  images: string;
  volumes: string;
  containers: string;
  cache: string;
  config: string;
}

const SYSTEM = { data: '/var/lib/hypr', run: '/run/hypr' };

export function resolvePaths(env: NodeJS.ProcessEnv = process.env, isRoot = process.getuid?.() === 0): HyprPaths {
  const data = resolve(
    env.HYPR_HOME ?? (isRoot ? SYSTEM.data : join(env.XDG_DATA_HOME ?? join(homedir(), '.local/share'), 'hypr')),
  );
  const run = isRoot ? SYSTEM.run : join(env.XDG_RUNTIME_DIR ?? data, 'hypr');
  const cache = resolve(env.HYPR_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'hypr'));
  return {
    data,
    run,
    socket: join(run, 'hyprd.sock'),
    db: join(data, 'hypr.db'),
    images: join(data, 'images'),
    volumes: join(data, 'volumes'),
    containers: join(data, 'containers'),
    cache,
    config: join(data, 'daemon.json'),
  };
}

/** The npm package that carries the guest for this host (esbuild's scheme: one package per platform). */
export function guestPackageName(platform: string = process.platform, arch: string = process.arch): string {
  return `@hypr/guest-${platform}-${arch}`;
}

interface GuestManifest {
  files: Record<string, { sha256: string; sizeBytes: number }>;
}

const verifiedGuestDirs = new Set<string>();

/**
 * Where the guest artifacts (vmlinux, kestrel) live, in this order: $HYPR_GUEST_DIR; the checkout's
 * guest/out (a development tree); the installed `@hypr/guest-<platform>-<arch>` package, whose files
 * are checked against its manifest's sha256 once per process. HYPR_KERNEL and HYPR_KESTREL override
 * single files where the guest is used.
 */
export function resolveGuestDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HYPR_GUEST_DIR) return resolve(env.HYPR_GUEST_DIR);
  // dist/paths.js or src/paths.ts → packages/core → repo root → guest/out
  const here = dirname(fileURLToPath(import.meta.url));
  const checkout = resolve(here, '../../../guest/out');
  if (existsSync(join(checkout, 'vmlinux')) || existsSync(join(checkout, 'kestrel'))) return checkout;
  const pkg = guestPackageName();
  let manifestPath: string;
  try {
    manifestPath = createRequire(import.meta.url).resolve(`${pkg}/manifest.json`);
  } catch (e) {
    if (env.HYPR_KERNEL && env.HYPR_KESTREL) return checkout;
    throw new HyprError(
      'GUEST_PACKAGE_MISSING',
      `the HYPR guest (kernel and Kestrel) for ${process.platform}-${process.arch} is not installed: no ${pkg}`,
      `install it with \`npm i ${pkg}\` (an optional dependency of @hypr/core), or point HYPR_GUEST_DIR at a directory holding vmlinux and kestrel`,
      { cause: e },
    );
  }
  const dir = dirname(manifestPath);
  if (!verifiedGuestDirs.has(dir)) {
    verifyGuest(dir, manifestPath, pkg);
    verifiedGuestDirs.add(dir);
  }
  return dir;
}

/** Checks a guest package's files against its manifest; a HyprError names the package to reinstall. */
export function verifyGuest(dir: string, manifestPath: string, pkg: string): void {
  const reinstall = `reinstall it: \`npm i ${pkg}\``;
  let manifest: GuestManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as GuestManifest;
  } catch (e) {
    throw new HyprError('GUEST_CORRUPT', `${manifestPath} is not a guest manifest`, reinstall, { cause: e });
  }
  // hypr-shim (the host's per-container supervisor) is checked where the manifest lists it: older packages lack it.
  const names = ['vmlinux', 'kestrel', ...(manifest.files?.['hypr-shim'] ? ['hypr-shim'] : [])];
  for (const name of names) {
    const want = manifest.files?.[name];
    const file = join(dir, name);
    if (!want || !existsSync(file)) {
      throw new HyprError('GUEST_CORRUPT', `${pkg} has no ${name} (${file})`, reinstall);
    }
    const got = createHash('sha256').update(readFileSync(file)).digest('hex');
    if (got !== want.sha256) {
      throw new HyprError(
        'GUEST_CORRUPT',
        `${file} does not match ${pkg}'s manifest (sha256 ${got.slice(0, 12)}…, expected ${want.sha256.slice(0, 12)}…)`,
        reinstall,
      );
    }
  }
}
