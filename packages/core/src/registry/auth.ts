import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { HyprError } from '../errors.js';
import { DOCKER_HUB, DOCKER_HUB_API } from './reference.js';

/** Credentials for one registry: a user and password (or token), or an identity (refresh) token. */
export interface RegistryCredentials {
  username?: string;
  password?: string;
  identityToken?: string;
}

/** Looks up credentials for a registry host; undefined means anonymous. */
export type RegistryCredentialResolver = (registry: string) => Promise<RegistryCredentials | undefined>;

export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses a `WWW-Authenticate` header: `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`. */
export function parseAuthChallenge(header: string): AuthChallenge | undefined {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))\s*,?/g;
  for (let p = re.exec(m[2]); p; p = re.exec(m[2])) {
    params[p[1].toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
  }
  return { scheme: m[1].toLowerCase(), params };
}

/** The keys under which a registry's credentials may be filed in a docker config. */
function credentialKeys(registry: string): string[] {
  if (registry === DOCKER_HUB || registry === DOCKER_HUB_API) {
    return [
      'https://index.docker.io/v1/',
      'index.docker.io',
      'docker.io',
      'registry-1.docker.io',
      'https://index.docker.io/v1',
    ];
  }
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
}

interface AuthFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
}

async function readAuthFile(path: string): Promise<AuthFile | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as AuthFile;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HyprError(
      'REGISTRY_AUTH_FILE_INVALID',
      `cannot read credentials from ${path}: ${(e as Error).message}`,
      'fix or remove the file',
      {
        cause: e,
      },
    );
  }
}

function credentialsFrom(file: AuthFile | undefined, registry: string): RegistryCredentials | undefined {
  const auths = file?.auths;
  if (!auths) return undefined;
  for (const key of credentialKeys(registry)) {
    const e = auths[key];
    if (!e) continue;
    if (e.identitytoken) return { identityToken: e.identitytoken, username: e.username };
    if (e.username && e.password) return { username: e.username, password: e.password };
    if (e.auth) {
      const text = Buffer.from(e.auth, 'base64').toString('utf8');
      const i = text.indexOf(':');
      if (i > 0) return { username: text.slice(0, i), password: text.slice(i + 1) };
    }
  }
  return undefined;
}

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
}

/**
 * Resolves credentials from HYPR's own store (`hypr login`) first, then the docker config's
 * `auths` entries. Credential helpers (`credsStore`) are not consulted.
 */
export function createCredentialResolver(
  opts: { hyprAuthFile?: string; dockerConfigFile?: string | false } = {},
): RegistryCredentialResolver {
  return async (registry) => {
    if (opts.hyprAuthFile) {
      const c = credentialsFrom(await readAuthFile(opts.hyprAuthFile), registry);
      if (c) return c;
    }
    if (opts.dockerConfigFile !== false) {
      return credentialsFrom(await readAuthFile(opts.dockerConfigFile ?? dockerConfigPath()), registry);
    }
    return undefined;
  };
}

/** Saves credentials for `registry` in HYPR's store (docker config format, mode 0600), as `hypr login` does. */
export async function saveRegistryCredentials(
  file: string,
  registry: string,
  creds: RegistryCredentials,
): Promise<void> {
  const doc = (await readAuthFile(file)) ?? {};
  doc.auths ??= {};
  const key = registry === DOCKER_HUB ? 'https://index.docker.io/v1/' : registry;
  doc.auths[key] = creds.identityToken
    ? { identitytoken: creds.identityToken, username: creds.username }
    : { auth: Buffer.from(`${creds.username ?? ''}:${creds.password ?? ''}`).toString('base64') };
  await writeAuthFile(file, doc);
}

/** Forgets the credentials of `registry` (`hypr logout`). Returns false when none were saved. */
export async function removeRegistryCredentials(file: string, registry: string): Promise<boolean> {
  const doc = await readAuthFile(file);
  if (!doc?.auths) return false;
  let found = false;
  for (const key of credentialKeys(registry)) {
    if (doc.auths[key]) {
      delete doc.auths[key];
      found = true;
    }
  }
  if (found) await writeAuthFile(file, doc);
  return found;
}

async function writeAuthFile(file: string, doc: AuthFile): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}
