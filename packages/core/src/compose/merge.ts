import type { ComposeLayer, LayerService } from './normalize.js';
import { type ComposePort, portKey } from './ports.js';
import type { ComposeEnvFile, ComposeFileReference } from './types.js';
import type { ComposeVolumeMount } from './volumes.js';
/**
 * Phase 6: merging files given with several `-f` (and a service with the one it extends) by the Compose
 * merge rules: mappings merge key by key, scalars are overridden, `command`, `entrypoint` and
 * `healthcheck.test` are replaced whole, `ports` merge on their host IP, published port, target and
 * protocol, `volumes`, `secrets` and `configs` on their target, `env_file` on its path, other sequences
 * are appended without duplicates. `!reset` in the overriding file removes the key, `!override` replaces
 * it without merging.
 */
import type { MergeTag } from './yaml-source.js';

type KeyOf = (item: unknown) => string;

const REPLACE = new Set(['services.*.command', 'services.*.entrypoint', 'services.*.healthcheck.test']);

const KEYED: Record<string, KeyOf> = {
  'services.*.ports': (p) => portKey(p as ComposePort),
  'services.*.volumes': (v) => (v as ComposeVolumeMount).target,
  'services.*.secrets': (s) =>
    (s as ComposeFileReference).target ?? `/run/secrets/${(s as ComposeFileReference).source}`,
  'services.*.build.secrets': (s) =>
    (s as ComposeFileReference).target ?? `/run/secrets/${(s as ComposeFileReference).source}`,
  'services.*.configs': (c) => (c as ComposeFileReference).target ?? `/${(c as ComposeFileReference).source}`,
  'services.*.env_file': (e) => (e as ComposeEnvFile).path,
  'services.*.devices': (d) => (d as { target: string }).target,
};

/** Paths whose value is replaced whole when both sides are lists (no sensible union). */
const REPLACE_LISTS = new Set(['networks.*.ipam.config', 'services.*.healthcheck.test']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function stable(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    isPlainObject(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x,
  );
}

/**
 * Merges `over` onto `base`. `path` is the concrete key path (for tags), `pattern` the same with the
 * names of services and resources replaced by `*` (for rules).
 */
function mergeValue(base: unknown, over: unknown, path: string, pattern: string, tags: Map<string, MergeTag>): unknown {
  if (tags.get(path) === 'override') return over;
  if (base === undefined) return stripResets(over, path, tags);
  if (REPLACE.has(pattern)) return over;
  if (pattern === 'services.*.logging' && isPlainObject(base) && isPlainObject(over)) {
    if (over.driver !== undefined && base.driver !== undefined && over.driver !== base.driver) return over;
  }
  if (pattern.startsWith('services.*.networks.') && pattern.split('.').length === 4 && over === null) return base;
  if (Array.isArray(base) && Array.isArray(over)) {
    if (REPLACE_LISTS.has(pattern)) return over;
    const keyOf: KeyOf = KEYED[pattern] ?? stable;
    const out = [...base];
    const index = new Map(out.map((item, i) => [keyOf(item), i]));
    for (const item of over) {
      const k = keyOf(item);
      const at = index.get(k);
      if (at === undefined) {
        index.set(k, out.length);
        out.push(item);
      } else out[at] = item;
    }
    return out;
  }
  if (isPlainObject(base) && isPlainObject(over)) {
    const out: Record<string, unknown> = { ...base };
    for (const [p, tag] of tags) {
      const rest = p.slice(path.length + 1);
      if (tag === 'reset' && p.startsWith(`${path}.`) && !/[.[]/.test(rest)) delete out[rest];
    }
    for (const [k, v] of Object.entries(over)) {
      const p = `${path}.${k}`;
      if (tags.get(p) === 'reset') {
        delete out[k];
        continue;
      }
      const merged = mergeValue(base[k], v, p, childPattern(pattern, k), tags);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
    return out;
  }
  return over;
}

/** Names under these mapping paths are user-chosen: rules use `*` for them. */
const NAMED_CHILDREN = new Set([
  'services',
  'networks',
  'volumes',
  'secrets',
  'configs',
  'services.*.networks',
  'services.*.depends_on',
  'services.*.ulimits',
  'services.*.extra_hosts',
]);

function childPattern(pattern: string, key: string): string {
  const seg = NAMED_CHILDREN.has(pattern) ? '*' : key;
  return pattern ? `${pattern}.${seg}` : seg;
}

/** Removes keys tagged `!reset` inside a value that has nothing to merge with. */
function stripResets(value: unknown, path: string, tags: Map<string, MergeTag>): unknown {
  if (tags.size === 0 || !isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const p = `${path}.${k}`;
    if (tags.get(p) === 'reset') continue;
    out[k] = stripResets(v, p, tags);
  }
  return out;
}

/** Merges one service onto another (used by extends and by multi-file merging). */
export function mergeService(
  base: LayerService,
  over: LayerService,
  name: string,
  tags: Map<string, MergeTag> = new Map(),
): LayerService {
  return mergeValue(base, over, `services.${name}`, 'services.*', tags) as LayerService;
}

/** Merges a whole file onto the result of the files before it. */
export function mergeLayers(base: ComposeLayer, over: ComposeLayer, tags: Map<string, MergeTag>): ComposeLayer {
  const out: ComposeLayer = emptyLayer();
  const name = over.name ?? base.name;
  if (name !== undefined) out.name = name;
  for (const section of ['services', 'networks', 'volumes', 'secrets', 'configs'] as const) {
    if (tags.get(section) === 'reset') continue;
    const merged = mergeValue(base[section], over[section], section, section, tags);
    out[section] = (merged ?? {}) as never;
  }
  out.extensions = { ...base.extensions };
  for (const [k, v] of Object.entries(over.extensions)) {
    if (tags.get(k) === 'reset') delete out.extensions[k];
    else out.extensions[k] = mergeValue(base.extensions[k], v, k, k, tags);
  }
  return out;
}

/** An empty project, the start of a merge. */
export function emptyLayer(): ComposeLayer {
  return { services: {}, networks: {}, volumes: {}, secrets: {}, configs: {}, extensions: {} };
}
