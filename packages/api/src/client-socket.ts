// Where hyprd's socket is: its own module, so that a caller needing only the path (the CLI's fast paths)
// loads no protobuf or Connect code.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export interface HyprClientOptions {
  /** `unix:///path/hyprd.sock` or a bare path; default HYPR_HOST, then the platform default. */
  host?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * The socket hyprd listens on by default, as core's resolvePaths places it: /run/hypr as root,
 * else $XDG_RUNTIME_DIR/hypr, else <HYPR_HOME or ~/.local/share/hypr>/hypr.
 */
export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env, isRoot = process.getuid?.() === 0): string {
  if (isRoot) return '/run/hypr/hyprd.sock';
  const data = resolve(env.HYPR_HOME ?? join(env.XDG_DATA_HOME ?? join(homedir(), '.local/share'), 'hypr'));
  return join(env.XDG_RUNTIME_DIR ?? data, 'hypr', 'hyprd.sock');
}

/** Parses a HYPR_HOST value: `unix:///path`, `unix:path` or a plain path. */
export function parseHost(host: string): string {
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  if (host.startsWith('unix:')) return host.slice('unix:'.length);
  if (host.includes('://')) throw new Error(`unsupported host ${host}: only unix:///path sockets are served`);
  return host;
}

/** Where the client connects: the option, else HYPR_HOST, else the default socket. */
export function resolveSocketPath(opts: HyprClientOptions = {}): string {
  const env = opts.env ?? process.env;
  const host = opts.host ?? env.HYPR_HOST;
  return host ? parseHost(host) : defaultSocketPath(env);
}
