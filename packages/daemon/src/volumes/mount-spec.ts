/**
 * docker's mount flags, parsed as dockerd and the docker CLI do on Linux: `-v`/`--volume`,
 * `--mount`, `--tmpfs`. Each parser returns a MountSpec or throws a HyprError naming the flag and
 * the value. Nothing here touches the disk: host paths are checked when the container is created.
 */
import { posix } from 'node:path';
import { parseSizeBytes } from '@hypr/api/units';
import { HyprError } from '@hypr/core';

export type MountSpec =
  /** A host directory. `createSource`: a missing source is created (-v), or an error (--mount). */
  | { type: 'bind'; source: string; target: string; readOnly: boolean; createSource: boolean }
  /** A named volume, or an anonymous one when `name` is absent. */
  | {
      type: 'volume';
      name?: string;
      target: string;
      readOnly: boolean;
      noCopy: boolean;
      labels?: Record<string, string>;
    }
  /** The guest kernel's tmpfs; `options` are mount options (size=…, mode=…, noexec, …). */
  | { type: 'tmpfs'; target: string; options: string };

/** docker's rule for local volume names. */
export const VOLUME_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

const MODE_WORDS = new Set([
  'rw',
  'ro',
  'z',
  'Z',
  'nocopy',
  'consistent',
  'cached',
  'delegated',
  'shared',
  'rshared',
  'slave',
  'rslave',
  'private',
  'rprivate',
]);

function flagError(flag: string, value: string, reason: string, hint?: string): HyprError {
  return new HyprError('INVALID_MOUNT', `invalid argument "${value}" for "${flag}" flag: ${reason}`, hint);
}

function checkTarget(flag: string, value: string, target: string, kind: string): string {
  if (!target) throw flagError(flag, value, `invalid mount config for type "${kind}": field Target must not be empty`);
  if (!target.startsWith('/'))
    throw flagError(
      flag,
      value,
      `invalid mount config for type "${kind}": invalid mount path: '${target}' mount path must be absolute`,
    );
  const clean = posix.normalize(target).replace(/(.)\/+$/, '$1');
  if (clean === '/') throw flagError(flag, value, 'invalid specification: destination can\'t be "/"');
  return clean;
}

/** A host path as docker cleans it (`..` and `//` resolved); relative paths are refused. */
function cleanSource(flag: string, value: string, source: string, kind: string): string {
  if (!source.startsWith('/'))
    throw flagError(
      flag,
      value,
      `invalid mount config for type "${kind}": invalid mount path: '${source}' mount path must be absolute`,
      'give an absolute host path, for example "$PWD/data"',
    );
  return posix.normalize(source).replace(/(.)\/+$/, '$1');
}

function checkVolumeName(flag: string, value: string, name: string): void {
  if (!VOLUME_NAME_PATTERN.test(name))
    throw flagError(
      flag,
      value,
      `"${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
    );
}

/** `-v [SOURCE:]TARGET[:MODE]`: SOURCE absolute = bind, a name = named volume, absent = anonymous. */
export function parseVolumeFlag(value: string): MountSpec {
  const flag = '--volume';
  const parts = value.split(':');
  if (parts.some((p) => p === '') || parts.length > 3)
    throw flagError(flag, value, `invalid volume specification: '${value}'`);
  let source: string | undefined;
  let target: string;
  let mode = '';
  if (parts.length === 1) target = parts[0];
  else if (parts.length === 2) {
    if (isMode(parts[1]) && parts[0].startsWith('/')) [target, mode] = parts;
    else [source, target] = parts;
  } else [source, target, mode] = parts;
  const words = mode ? mode.split(',') : [];
  for (const w of words) if (!MODE_WORDS.has(w)) throw flagError(flag, value, `invalid mode: ${mode}`);
  if (words.includes('ro') && words.includes('rw')) throw flagError(flag, value, `invalid mode: ${mode}`);
  const readOnly = words.includes('ro');
  const noCopy = words.includes('nocopy');
  if (source === undefined) {
    return { type: 'volume', target: checkTarget(flag, value, target, 'volume'), readOnly, noCopy };
  }
  if (source.startsWith('/')) {
    if (noCopy) throw flagError(flag, value, `invalid mode: ${mode}`);
    return {
      type: 'bind',
      source: cleanSource(flag, value, source, 'bind'),
      target: checkTarget(flag, value, target, 'bind'),
      readOnly,
      createSource: true,
    };
  }
  checkVolumeName(flag, value, source);
  return { type: 'volume', name: source, target: checkTarget(flag, value, target, 'volume'), readOnly, noCopy };
}

function isMode(text: string): boolean {
  return text.split(',').every((w) => MODE_WORDS.has(w));
}

function parseBool(flag: string, value: string, key: string, v: string | undefined): boolean {
  if (v === undefined) return true;
  const t = v.toLowerCase();
  if (t === 'true' || t === '1') return true;
  if (t === 'false' || t === '0') return false;
  throw flagError(flag, value, `invalid value for ${key}: ${v}`);
}

/** `10m`, `64k`, `1g`, or bytes → bytes (docker's RAMInBytes, 1024-based). */
export function parseTmpfsSize(text: string): number {
  const n = parseSizeBytes(text.trim());
  if (n === undefined) throw new Error(`invalid size: '${text}'`);
  return n;
}

/** What the fields of one `--mount` value say, before they are checked against each other. */
interface MountFields {
  type: string;
  source: string;
  target: string;
  readOnly: boolean;
  noCopy: boolean;
  sizeBytes?: number;
  mode?: number;
  labels: Record<string, string>;
}

/** `--mount type=bind|volume|tmpfs,source=…,target=…,readonly,…` as the docker CLI reads it. */
export function parseMountFlag(value: string): MountSpec {
  return toMountSpec(value, readMountFields(value));
}

/** The key=value fields of a `--mount` value; unknown keys and bad values are errors. */
function readMountFields(value: string): MountFields {
  const flag = '--mount';
  const f: MountFields = { type: 'volume', source: '', target: '', readOnly: false, noCopy: false, labels: {} };
  for (const field of splitCsv(value)) {
    if (!field) continue;
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const v = eq < 0 ? undefined : field.slice(eq + 1);
    const need = () => {
      if (v === undefined) throw flagError(flag, value, `invalid field '${key}' must be a key=value pair`);
      return v;
    };
    switch (key) {
      case 'type':
        f.type = need().toLowerCase();
        if (!['bind', 'volume', 'tmpfs'].includes(f.type))
          throw flagError(flag, value, `invalid mount type: ${f.type}`, 'use type=bind, type=volume or type=tmpfs');
        break;
      case 'source':
      case 'src':
        f.source = need();
        break;
      case 'target':
      case 'dst':
      case 'destination':
        f.target = need();
        break;
      case 'readonly':
      case 'ro':
        f.readOnly = parseBool(flag, value, key, v);
        break;
      case 'volume-nocopy':
        f.noCopy = parseBool(flag, value, key, v);
        break;
      case 'volume-label': {
        const l = need();
        const i = l.indexOf('=');
        f.labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
        break;
      }
      case 'volume-driver':
        if (need() !== 'local')
          throw flagError(flag, value, `volume driver ${v} is not supported`, 'use the local driver');
        break;
      case 'tmpfs-size':
        try {
          f.sizeBytes = parseTmpfsSize(need());
        } catch (e) {
          throw flagError(flag, value, `invalid value for ${key}: ${(e as Error).message}`);
        }
        break;
      case 'tmpfs-mode': {
        const n = Number.parseInt(need(), 8);
        if (Number.isNaN(n) || !/^[0-7]+$/.test(need())) throw flagError(flag, value, `invalid value for ${key}: ${v}`);
        f.mode = n;
        break;
      }
      case 'bind-propagation':
      case 'consistency':
      case 'bind-recursive':
      case 'bind-nonrecursive':
      case 'volume-opt':
      case 'volume-subpath':
        break; // accepted: a VM's shares have no propagation or consistency modes
      default:
        throw flagError(flag, value, `unexpected key '${key}' in '${key}${v === undefined ? '' : `=${v}`}'`);
    }
  }
  return f;
}

/** The fields checked against the mount type, as a MountSpec. */
function toMountSpec(value: string, f: MountFields): MountSpec {
  const flag = '--mount';
  const { type, source, target, readOnly, noCopy } = f;
  if (type !== 'volume' && noCopy)
    throw flagError(
      flag,
      value,
      `invalid mount config for type "${type}": cannot mix 'volume-nocopy' with type ${type}`,
    );
  if (type !== 'tmpfs' && (f.sizeBytes !== undefined || f.mode !== undefined))
    throw flagError(
      flag,
      value,
      `invalid mount config for type "${type}": cannot mix 'tmpfs-*' options with type ${type}`,
    );
  if (type === 'bind') {
    if (!source) throw flagError(flag, value, 'invalid mount config for type "bind": field Source must not be empty');
    return {
      type: 'bind',
      source: cleanSource(flag, value, source, 'bind'),
      target: checkTarget(flag, value, target, 'bind'),
      readOnly,
      createSource: false,
    };
  }
  if (type === 'tmpfs') {
    if (source) throw flagError(flag, value, 'invalid mount config for type "tmpfs": source must not be specified');
    if (readOnly) throw flagError(flag, value, 'invalid mount config for type "tmpfs": readonly is not supported');
    return {
      type: 'tmpfs',
      target: checkTarget(flag, value, target, 'tmpfs'),
      options: tmpfsOptions(f.sizeBytes, f.mode),
    };
  }
  if (source) checkVolumeName(flag, value, source);
  return {
    type: 'volume',
    ...(source ? { name: source } : {}),
    target: checkTarget(flag, value, target, 'volume'),
    readOnly,
    noCopy,
    ...(Object.keys(f.labels).length ? { labels: f.labels } : {}),
  };
}

/** Comma-separated fields, where a field may be double-quoted (as encoding/csv reads them). */
function splitCsv(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function tmpfsOptions(sizeBytes?: number, mode?: number): string {
  const o: string[] = [];
  if (sizeBytes !== undefined) o.push(`size=${sizeBytes}`);
  o.push(`mode=${(mode ?? 0o1777).toString(8)}`);
  return o.join(',');
}

const TMPFS_FLAGS = new Set(['rw', 'ro', 'noexec', 'exec', 'nosuid', 'suid', 'nodev', 'dev', 'sync', 'async']);
const TMPFS_DATA = new Set(['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'huge', 'mpol']);

/** `--tmpfs /path[:options]`, options as mount(8) takes them (size=64m,mode=1777,noexec…). */
export function parseTmpfsFlag(value: string): MountSpec {
  const flag = '--tmpfs';
  const colon = value.indexOf(':');
  const rawTarget = colon < 0 ? value : value.slice(0, colon);
  const target = checkTarget(flag, value, rawTarget, 'tmpfs');
  const given =
    colon < 0
      ? []
      : value
          .slice(colon + 1)
          .split(',')
          .filter(Boolean);
  const out: string[] = [];
  let mode = false;
  for (const opt of given) {
    const [k, v] = opt.split('=', 2);
    if (TMPFS_FLAGS.has(opt)) {
      if (!['rw', 'exec', 'suid', 'dev', 'async'].includes(opt)) out.push(opt);
    } else if (TMPFS_DATA.has(k) && v !== undefined) {
      if (k === 'size') {
        try {
          out.push(`size=${parseTmpfsSize(v)}`);
        } catch (e) {
          throw flagError(flag, value, (e as Error).message);
        }
      } else if (k === 'mode') {
        if (!/^[0-7]{3,4}$/.test(v)) throw flagError(flag, value, `invalid mode: ${v}`);
        mode = true;
        out.push(opt);
      } else out.push(opt);
    } else throw flagError(flag, value, `invalid tmpfs option ["${opt}"]`);
  }
  if (!mode) out.push('mode=1777');
  return { type: 'tmpfs', target, options: out.join(',') };
}

/** `--volumes-from CONTAINER[:ro|rw]`. */
export function parseVolumesFrom(value: string): { container: string; mode?: 'ro' | 'rw' } {
  const [container, mode, ...rest] = value.split(':');
  if (!container || rest.length) throw flagError('--volumes-from', value, 'invalid volumes-from specification');
  if (mode === undefined) return { container };
  if (mode !== 'ro' && mode !== 'rw') throw flagError('--volumes-from', value, `invalid mode: ${mode}`);
  return { container, mode };
}
