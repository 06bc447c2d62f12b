/**
 * The project's networks, volumes, secrets and configs after the merge: their names on the host
 * (`<project>_<key>` unless named, the key itself when external), the default network when a service
 * uses it, and compose-go's checks of them (validation/validation.go and external.go, loader/validate.go):
 * a secret or config has exactly one source, and an external volume sets nothing but its name.
 */
import type { Fail } from './defaults.js';
import type { ComposeLayer } from './normalize.js';
import type { ComposeFileObject, ComposeNetwork, ComposeService, ComposeVolume } from './types.js';

export interface ProjectResources {
  networks: Record<string, ComposeNetwork>;
  volumes: Record<string, ComposeVolume>;
  secrets: Record<string, ComposeFileObject>;
  configs: Record<string, ComposeFileObject>;
}

/** A network's, volume's, secret's or config's name on the host. */
export function resourceName(project: string, key: string, r: { name?: string; external?: boolean }): string {
  if (r.name !== undefined) return r.name;
  return r.external ? key : `${project}_${key}`;
}

/** Names every resource; adds the default network when an enabled service is on it. */
export function nameResources(
  project: string,
  merged: ComposeLayer,
  services: Record<string, ComposeService>,
): ProjectResources {
  const networks: Record<string, ComposeNetwork> = {};
  const usesDefault = Object.values(services).some((s) => s.networks && 'default' in s.networks);
  const rawNetworks = { ...merged.networks };
  if (usesDefault && !rawNetworks.default) rawNetworks.default = {};
  for (const [key, n] of Object.entries(rawNetworks))
    networks[key] = { ...n, name: resourceName(project, key, n) } as ComposeNetwork;
  const volumes: Record<string, ComposeVolume> = {};
  for (const [key, v] of Object.entries(merged.volumes))
    volumes[key] = { ...v, name: resourceName(project, key, v) } as ComposeVolume;
  const secrets: Record<string, ComposeFileObject> = {};
  for (const [key, o] of Object.entries(merged.secrets))
    secrets[key] = { ...o, name: resourceName(project, key, o) } as ComposeFileObject;
  const configs: Record<string, ComposeFileObject> = {};
  for (const [key, o] of Object.entries(merged.configs))
    configs[key] = { ...o, name: resourceName(project, key, o) } as ComposeFileObject;
  return { networks, volumes, secrets, configs };
}

const SOURCES = { secrets: ['file', 'environment'], configs: ['file', 'environment', 'content'] } as const;

/** compose-go's checks of secrets, configs and external volumes; unset variables become warnings. */
export function checkResources(
  merged: ComposeLayer,
  environment: Readonly<Record<string, string>>,
  fail: Fail,
  warn: (message: string) => void,
): void {
  for (const kind of ['secrets', 'configs'] as const) {
    const keys = SOURCES[kind];
    for (const [key, o] of Object.entries(merged[kind])) {
      const set = keys.filter((k) => (o as Record<string, unknown>)[k] !== undefined);
      if (set.length > 1) fail(`${kind}.${key}`, `${keys.join('|')} attributes are mutually exclusive`, 'keep one');
      else if (set.length === 0 && o.driver === undefined && o.external === undefined) {
        fail(`${kind}.${key}`, `one of ${keys.join('|')} must be set`, `or mark the ${kind.slice(0, -1)} external`);
      } else if (kind === 'secrets' && set.length === 0 && !o.external) {
        fail(`${kind}.${key}`, `secret ${JSON.stringify(key)} must declare either \`file\` or \`environment\``);
      } else if (o.environment !== undefined && environment[o.environment] === undefined) {
        warn(`${kind}.${key}: the ${JSON.stringify(o.environment)} variable is not set; its content is empty`);
      }
    }
  }
  for (const [key, v] of Object.entries(merged.volumes)) {
    if (!v.external) continue;
    for (const k of Object.keys(v)) {
      if (k === 'name' || k === 'external' || k.startsWith('x-')) continue;
      fail(`volumes.${key}`, `conflicting parameters "external" and ${JSON.stringify(k)} specified`);
    }
  }
}
