/**
 * The coercions of phase 4: each takes a validated value (often "a number or a string") and gives the
 * canonical one, reporting what does not convert at its key path.
 */
import { isIP } from 'node:net';
import { splitShellWords } from './shell-words.js';
import type { ComposeFileReference } from './types.js';
import { normalizeDuration, parseBytes } from './units.js';

/** Reports a problem at a key path; `warn` (when given) reports what loads but deserves a word. */
export interface Report {
  (path: (string | number)[], message: string, hint?: string): void;
  warn?: (path: (string | number)[], message: string) => void;
}

/** Copies the `x-*` extension keys of a mapping as written. */
export function copyExtensions(target: object, source: object | null | undefined): void {
  if (!source) return;
  for (const [k, v] of Object.entries(source)) if (k.startsWith('x-')) (target as Record<string, unknown>)[k] = v;
}

/**
 * A boolean as compose-go casts one (loader/interpolate.go toBoolean): true/false in any case, and the
 * YAML 1.1 spellings y/yes/on and n/no/off with a warning.
 */
export function toBool(v: boolean | string, report: Report, path: (string | number)[]): boolean {
  if (typeof v === 'boolean') return v;
  const s = v.toLowerCase();
  if (s === 'true' || s === 'false') return s === 'true';
  const legacy = ['y', 'yes', 'on'].includes(s) ? true : ['n', 'no', 'off'].includes(s) ? false : undefined;
  if (legacy === undefined) {
    report(path, `must be a boolean (got ${JSON.stringify(v)})`, 'write true or false');
    return false;
  }
  report.warn?.(path, `${JSON.stringify(v)} for boolean is not supported by YAML 1.2, please use \`${legacy}\``);
  return legacy;
}

export function toInt(v: number | string, report: Report, path: (string | number)[]): number {
  const n = typeof v === 'number' ? v : /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : Number.NaN;
  if (!Number.isInteger(n)) report(path, `must be an integer (got ${JSON.stringify(v)})`);
  return n;
}

export function toNumber(v: number | string, report: Report, path: (string | number)[]): number {
  const n = typeof v === 'number' ? v : Number(v.trim());
  if (typeof v === 'string' && (v.trim() === '' || !Number.isFinite(n))) {
    report(path, `must be a number (got ${JSON.stringify(v)})`);
  }
  return n;
}

export function toBytes(v: number | string, report: Report, path: (string | number)[]): number {
  const n = parseBytes(v);
  if (n === undefined) {
    report(path, `${JSON.stringify(v)} is not a size`, 'write a number of bytes or a size such as "512m" or "2g"');
    return 0;
  }
  return n;
}

export function toDuration(v: string, report: Report, path: (string | number)[]): string {
  const d = normalizeDuration(v);
  if (d === undefined) {
    report(path, `${JSON.stringify(v)} is not a duration`, 'write a duration such as "30s", "1m30s" or "500ms"');
    return v;
  }
  return d;
}

function scalarToString(v: string | number | boolean | null): string | null {
  return v === null ? null : String(v);
}

/** A list of KEY=VALUE strings or a mapping, as a mapping; `KEY` alone gives null. */
export function toNullableMap(
  v: Record<string, string | number | boolean | null> | string[],
): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (Array.isArray(v)) {
    for (const item of v) {
      const eq = item.indexOf('=');
      if (eq < 0) out[item] = null;
      else out[item.slice(0, eq)] = item.slice(eq + 1);
    }
  } else {
    for (const [k, val] of Object.entries(v)) out[k] = scalarToString(val);
  }
  return out;
}

/** Like toNullableMap, for labels and sysctls: `KEY` alone means an empty value. */
export function toStringMap(
  v: Record<string, string | number | boolean | null> | string[],
  _report: Report,
  _path: (string | number)[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(toNullableMap(v))) out[k] = val ?? '';
  return out;
}

export function toCommand(v: string | string[] | null, report: Report, path: (string | number)[]): string[] | null {
  if (v === null || Array.isArray(v)) return v;
  try {
    return splitShellWords(v);
  } catch (e) {
    report(path, (e as Error).message, (e as { hint?: string }).hint);
    return [v];
  }
}

export function toList(v: string | string[]): string[] {
  return typeof v === 'string' ? [v] : v;
}

export function toExtraHosts(
  v: Record<string, string | string[]> | string[],
  report: Report,
  path: (string | number)[],
) {
  const out: Record<string, string[]> = {};
  const add = (host: string, ip: string, i?: number) => {
    const clean = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
    if (clean !== 'host-gateway' && isIP(clean) === 0) {
      report(i === undefined ? [...path, host] : [...path, i], `${JSON.stringify(ip)} is not an IP address`);
    }
    out[host] = [...(out[host] ?? []), clean];
  };
  if (Array.isArray(v)) {
    v.forEach((entry, i) => {
      const eq = entry.indexOf('=');
      const sep = eq >= 0 ? eq : entry.indexOf(':');
      if (sep <= 0) {
        report([...path, i], `${JSON.stringify(entry)} is not a host mapping`, 'write HOST=IP or HOST:IP');
        return;
      }
      add(entry.slice(0, sep), entry.slice(sep + 1), i);
    });
  } else {
    for (const [host, ips] of Object.entries(v)) for (const ip of toList(ips)) add(host, ip);
  }
  return out;
}

export function toFileReferences(
  v: (string | { source?: string; target?: string; uid?: string; gid?: string; mode?: number | string })[],
  report: Report,
  path: (string | number)[],
): ComposeFileReference[] {
  return v.map((item, i) => {
    if (typeof item === 'string') return { source: item };
    if (item.source === undefined) {
      report([...path, i, 'source'], 'is required');
      return { source: '' };
    }
    const ref: ComposeFileReference = { source: item.source };
    if (item.target !== undefined) ref.target = item.target;
    if (item.uid !== undefined) ref.uid = item.uid;
    if (item.gid !== undefined) ref.gid = item.gid;
    if (item.mode !== undefined) {
      const mode = typeof item.mode === 'number' ? item.mode : Number.parseInt(item.mode, 8);
      if (Number.isNaN(mode)) report([...path, i, 'mode'], `${JSON.stringify(item.mode)} is not an octal file mode`);
      ref.mode = mode;
    }
    return ref;
  });
}
