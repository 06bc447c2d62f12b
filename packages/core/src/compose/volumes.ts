/**
 * Service volumes: the short syntax `[SOURCE:]TARGET[:MODE]` parsed as compose-go's format.ParseVolume
 * does (a source starting with `.`, `/` or `~` is a bind mount, any other source a named volume, none an
 * anonymous volume), into the long syntax.
 */
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { HyprError } from '../errors.js';

/** A service mount in the long syntax, as `docker compose config` prints it. */
export interface ComposeVolumeMount {
  type: 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster' | 'image';
  source?: string;
  target: string;
  read_only?: boolean;
  consistency?: string;
  bind?: { propagation?: string; create_host_path?: boolean; selinux?: 'z' | 'Z'; recursive?: string };
  volume?: { nocopy?: boolean; subpath?: string; labels?: Record<string, string> };
  tmpfs?: { size?: number; mode?: number };
  image?: { subpath?: string };
}

/** A short-syntax volume that does not parse; the loader adds the file, line and key path. */
export class VolumeSyntaxError extends HyprError {
  constructor(
    readonly spec: string,
    reason: string,
  ) {
    super(
      'COMPOSE_VOLUME_INVALID',
      `${JSON.stringify(spec)} is not a volume mount: ${reason}`,
      'write SOURCE:TARGET[:MODE], for example "./data:/var/lib/data:ro" or "dbdata:/var/lib/postgresql/data"',
    );
  }
}

const PROPAGATION = ['shared', 'slave', 'private', 'rshared', 'rslave', 'rprivate'];
const CONSISTENCY = ['consistent', 'cached', 'delegated'];

/** True when a volume source names a host path rather than a named volume. */
export function isBindSource(source: string): boolean {
  return source.startsWith('.') || source.startsWith('/') || source.startsWith('~') || /^[A-Za-z]:[\\/]/.test(source);
}

/** Resolves a host path as compose does: `~` to the home directory, relative paths against `baseDir`. */
export function resolveHostPath(path: string, baseDir: string, home = homedir()): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return resolve(home, path.slice(2));
  return isAbsolute(path) ? resolve(path) : resolve(baseDir, path);
}

/** Parses one short-syntax volume into the long syntax; bind sources are resolved against `baseDir`. */
export function parseShortVolume(spec: string, baseDir: string): ComposeVolumeMount {
  const parts = spec.split(':');
  if (spec.trim() === '') throw new VolumeSyntaxError(spec, 'it is empty');
  if (parts.length > 3) throw new VolumeSyntaxError(spec, 'too many colons');
  let source: string | undefined;
  let target: string;
  let mode: string | undefined;
  if (parts.length === 1) target = parts[0];
  else if (parts.length === 2) [source, target] = parts;
  else [source, target, mode] = parts;
  if (target === '') throw new VolumeSyntaxError(spec, 'no target path');
  if (!target.startsWith('/'))
    throw new VolumeSyntaxError(spec, `target ${JSON.stringify(target)} is not an absolute path`);
  if (source === '') throw new VolumeSyntaxError(spec, 'empty source');
  const out: ComposeVolumeMount =
    source === undefined
      ? { type: 'volume', target }
      : isBindSource(source)
        ? { type: 'bind', source: resolveHostPath(source, baseDir), target }
        : { type: 'volume', source, target };
  for (const opt of mode ? mode.split(',') : []) {
    if (opt === 'ro') out.read_only = true;
    else if (opt === 'rw') out.read_only = false;
    else if (opt === 'z' || opt === 'Z') {
      if (out.type !== 'bind') throw new VolumeSyntaxError(spec, `option ${opt} applies to bind mounts only`);
      out.bind = { ...out.bind, selinux: opt };
    } else if (PROPAGATION.includes(opt)) {
      if (out.type !== 'bind') throw new VolumeSyntaxError(spec, `option ${opt} applies to bind mounts only`);
      out.bind = { ...out.bind, propagation: opt };
    } else if (CONSISTENCY.includes(opt)) out.consistency = opt;
    else if (opt === 'nocopy') {
      if (out.type !== 'volume') throw new VolumeSyntaxError(spec, 'option nocopy applies to volumes only');
      out.volume = { ...out.volume, nocopy: true };
    } else throw new VolumeSyntaxError(spec, `unknown option ${JSON.stringify(opt)}`);
  }
  if (out.read_only === false) out.read_only = undefined;
  // The short syntax creates a missing host directory, as docker always did.
  if (out.type === 'bind') out.bind = { ...out.bind, create_host_path: true };
  return stripUndefined(out);
}

function stripUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}
