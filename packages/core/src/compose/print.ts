/**
 * `docker compose config`: the normalised project printed as a compose file. Keys are sorted, empty
 * sections left out, `$` escaped as `$$`, so that loading the output again gives the same project.
 */
import { stringify } from 'yaml';
import type { ComposeProject } from './types.js';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function prepare(v: unknown, sortKeys: boolean): unknown {
  if (typeof v === 'string') return v.replaceAll('$', '$$$$');
  if (Array.isArray(v)) return v.map((x) => prepare(x, true));
  if (isPlainObject(v)) {
    const keys = Object.keys(v).filter((k) => v[k] !== undefined);
    if (sortKeys) keys.sort();
    return Object.fromEntries(keys.map((k) => [k, prepare(v[k], true)]));
  }
  return v;
}

/** The compose model as the compose file `docker compose config` would print. */
export function toComposeDocument(project: ComposeProject): Record<string, unknown> {
  const doc: Record<string, unknown> = { name: project.name };
  for (const section of ['services', 'networks', 'volumes', 'secrets', 'configs'] as const) {
    const entries = project[section];
    if (Object.keys(entries).length > 0) doc[section] = entries;
  }
  for (const [k, v] of Object.entries(project.extensions ?? {})) doc[k] = v;
  return prepare(doc, false) as Record<string, unknown>;
}

/** Prints the project as YAML. */
export function printCompose(project: ComposeProject): string {
  return stringify(toComposeDocument(project), { lineWidth: 0, aliasDuplicateObjects: false });
}
