import { mkdirSync, statSync } from 'node:fs';
/**
 * A container's mounts, in the order docker builds them: mounts inherited with --volumes-from,
 * then the image's VOLUMEs (anonymous volumes), then -v, --mount and --tmpfs, a later source
 * replacing an earlier one at the same target. Resolved once at create (volumes made, bind sources
 * checked) and stored with the container; turned into the VM's mounts at every start.
 */
import { mkdir } from 'node:fs/promises';
import { posix } from 'node:path';
import { type GuestMount, HyprError } from '@hypr/core';
import { type MountSpec, parseMountFlag, parseTmpfsFlag, parseVolumeFlag, parseVolumesFrom } from '../volumes/index.js';
import type { ImageFiles, ResolvedMount, VolumeManager } from '../volumes/index.js';

export interface MountRequest {
  volumes?: string[];
  mounts?: string[];
  tmpfs?: string[];
  volumesFrom?: string[];
}

export interface ResolveMountsContext {
  volumes: VolumeManager;
  /** The image's `Volumes` (config.Volumes keys). */
  imageVolumes: string[];
  /** The stored mounts of another container (--volumes-from), by id or name. */
  mountsOf(container: string): ResolvedMount[];
}

/** The -v/--mount/--tmpfs specs, each remembering the flag and text it came from (for later errors). */
interface ParsedMounts {
  specs: MountSpec[];
  tmpfs: MountSpec[];
  given: Map<MountSpec, string>;
  targets: Set<string>;
}

function parseMountRequest(req: MountRequest): ParsedMounts {
  const given = new Map<MountSpec, string>();
  const specs: MountSpec[] = [];
  for (const v of req.volumes ?? []) specs.push(keep(given, parseVolumeFlag(v), 'for "--volume" flag', v));
  for (const v of req.mounts ?? []) specs.push(keep(given, parseMountFlag(v), 'for "--mount" flag', v));
  const tmpfs = (req.tmpfs ?? []).map(parseTmpfsFlag);
  const targets = new Set<string>();
  for (const s of [...specs, ...tmpfs]) {
    if (targets.has(s.target))
      throw new HyprError(
        'INVALID_MOUNT_DUPLICATE',
        `Duplicate mount point: ${s.target}`,
        'give each mount its own target',
      );
    targets.add(s.target);
  }
  return { specs, tmpfs, given, targets };
}

/** What resolving builds up: the mounts by target, and the volumes made (removed again on failure). */
interface Resolution {
  byTarget: Map<string, ResolvedMount>;
  created: string[];
}

/** --volumes-from: the other containers' mounts (not their tmpfs, as docker), with an optional :ro/:rw. */
function inheritVolumesFrom(req: MountRequest, ctx: ResolveMountsContext, r: Resolution): void {
  for (const from of req.volumesFrom ?? []) {
    const { container, mode } = parseVolumesFrom(from);
    for (const m of ctx.mountsOf(container)) {
      if (m.type === 'tmpfs') continue;
      r.byTarget.set(m.target, mode ? { ...m, readOnly: mode === 'ro' } : { ...m });
    }
  }
}

/** The image's VOLUMEs not covered otherwise become anonymous volumes. */
function addImageVolumes(ctx: ResolveMountsContext, taken: Set<string>, r: Resolution): void {
  for (const target of ctx.imageVolumes) {
    const t = posix.normalize(target).replace(/(.)\/+$/, '$1');
    if (r.byTarget.has(t) || taken.has(t)) continue;
    const v = ctx.volumes.createAnonymous();
    r.created.push(v.name);
    r.byTarget.set(t, {
      type: 'volume',
      name: v.name,
      source: v.mountpoint,
      target: t,
      readOnly: false,
      noCopy: false,
      anonymous: true,
    });
  }
}

/** A bind source must be a directory; -v creates a missing one, --mount refuses it (as docker). */
function checkBindSource(s: Extract<MountSpec, { type: 'bind' }>, flag: string | undefined): void {
  const kind = kindOf(s.source);
  if (kind === 'missing') {
    if (!s.createSource)
      throw new HyprError(
        'INVALID_MOUNT',
        `invalid argument ${flag}: invalid mount config for type "bind": bind source path does not exist: ${s.source}`,
        'create the directory first (-v creates it, --mount does not)',
      );
    mkdirSync(s.source, { recursive: true, mode: 0o755 });
  } else if (kind === 'other')
    throw new HyprError(
      'MOUNT_NOT_SUPPORTED',
      `invalid argument ${flag}: bind source ${s.source} is not a directory: a microVM can share directories only`,
      'bind the directory that holds the file',
    );
}

/** A named volume (made when missing) or an anonymous one. */
function resolveVolume(
  s: Extract<MountSpec, { type: 'volume' }>,
  ctx: ResolveMountsContext,
  r: Resolution,
): ResolvedMount {
  let name = s.name;
  let anonymous = false;
  if (name) {
    if (ctx.volumes.ensure(name, s.labels).created) r.created.push(name);
  } else {
    name = ctx.volumes.createAnonymous().name;
    anonymous = true;
    r.created.push(name);
  }
  return {
    type: 'volume',
    name,
    source: ctx.volumes.dataPath(name),
    target: s.target,
    readOnly: s.readOnly,
    noCopy: s.noCopy,
    anonymous,
  };
}

function addSpecs(p: ParsedMounts, ctx: ResolveMountsContext, r: Resolution): void {
  for (const s of p.specs) {
    if (s.type === 'bind') {
      checkBindSource(s, p.given.get(s));
      r.byTarget.set(s.target, { ...s });
    } else if (s.type === 'volume') r.byTarget.set(s.target, resolveVolume(s, ctx, r));
    else r.byTarget.set(s.target, { ...s, flag: 'mount' });
  }
  for (const t of p.tmpfs) if (t.type === 'tmpfs') r.byTarget.set(t.target, { ...t, flag: 'tmpfs' });
}

/**
 * Resolves the flags into stored mounts, creating named and anonymous volumes and -v bind sources.
 * On failure, volumes made here are removed again. `created` lists the volumes made, for the same
 * clean-up when the container cannot be recorded.
 */
export function resolveMounts(
  req: MountRequest,
  ctx: ResolveMountsContext,
): { mounts: ResolvedMount[]; created: string[] } {
  const parsed = parseMountRequest(req);
  const r: Resolution = { byTarget: new Map(), created: [] };
  try {
    inheritVolumesFrom(req, ctx, r);
    addImageVolumes(ctx, parsed.targets, r);
    addSpecs(parsed, ctx, r);
  } catch (e) {
    for (const name of r.created) void ctx.volumes.remove(name, { force: true }).catch(() => {});
    throw e;
  }
  // Parents first, so /a is mounted before /a/b.
  const mounts = [...r.byTarget.values()].sort((a, b) => depth(a.target) - depth(b.target));
  return { mounts, created: r.created };
}

function keep(given: Map<MountSpec, string>, spec: MountSpec, flag: string, value: string): MountSpec {
  given.set(spec, `"${value}" ${flag}`);
  return spec;
}

function depth(p: string): number {
  return p.split('/').length;
}

function kindOf(path: string): 'dir' | 'other' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'other';
  } catch {
    return 'missing';
  }
}

/**
 * The VM's mounts for this start. Fills new, empty volumes from the image first (copy-up) when the
 * container has never run, and recreates a missing -v bind source as docker does at start.
 */
export async function prepareGuestMounts(
  mounts: ResolvedMount[],
  o: { volumes?: VolumeManager; firstStart: boolean; imageFiles: () => Promise<ImageFiles> },
): Promise<GuestMount[]> {
  const out: GuestMount[] = [];
  for (const m of mounts) {
    if (m.type === 'tmpfs') {
      out.push({ type: 'tmpfs', target: m.target, options: m.options });
      continue;
    }
    if (m.type === 'volume') {
      if (!o.volumes?.exists(m.name))
        throw new HyprError(
          'VOLUME_NOT_FOUND',
          `the volume ${m.name} mounted at ${m.target} is gone`,
          'recreate the container',
        );
      if (o.firstStart && !m.noCopy) await o.volumes.copyUp(m.name, await o.imageFiles(), m.target);
    } else if (m.createSource) await mkdir(m.source, { recursive: true });
    out.push({ type: 'share', hostPath: m.source, target: m.target, readOnly: m.readOnly });
  }
  return out;
}

/** The `Mounts` of docker inspect (tmpfs from --tmpfs is listed under HostConfig.Tmpfs instead). */
export function inspectMounts(mounts: ResolvedMount[]): Record<string, unknown>[] {
  return mounts
    .filter((m) => !(m.type === 'tmpfs' && m.flag === 'tmpfs'))
    .map((m) =>
      m.type === 'bind'
        ? {
            Type: 'bind',
            Source: m.source,
            Destination: m.target,
            Mode: m.readOnly ? 'ro' : '',
            RW: !m.readOnly,
            Propagation: 'rprivate',
          }
        : m.type === 'volume'
          ? {
              Type: 'volume',
              Name: m.name,
              Source: m.source,
              Destination: m.target,
              Driver: 'local',
              Mode: m.readOnly ? 'ro' : 'z',
              RW: !m.readOnly,
              Propagation: '',
            }
          : { Type: 'tmpfs', Source: '', Destination: m.target, Mode: '', RW: true, Propagation: '' },
    );
}

/** HostConfig.Tmpfs: target → options, for --tmpfs mounts. */
export function inspectTmpfs(mounts: ResolvedMount[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of mounts) if (m.type === 'tmpfs' && m.flag === 'tmpfs') out[m.target] = m.options;
  return out;
}
