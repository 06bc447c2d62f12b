import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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

/** Where the guest artifacts (vmlinux, kestrel) live: $HYPR_GUEST_DIR, else the repo's guest/out. */
export function resolveGuestDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HYPR_GUEST_DIR) return resolve(env.HYPR_GUEST_DIR);
  // dist/paths.js or src/paths.ts → packages/core → repo root → guest/out
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, '../../../guest/out');
}
