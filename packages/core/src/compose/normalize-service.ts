/** Phase 4 for a service: each key to its canonical shape (the others pass through as validated). */
import type { LayerService, NormalizeContext } from './layer-types.js';
import { checkDeviceRequests, normalizeBuild, normalizeDeploy, normalizeHealthcheck } from './normalize-build.js';
import { normalizePorts, normalizeVolumes } from './normalize-mounts.js';
import {
  toBool,
  toBytes,
  toCommand,
  toDuration,
  toExtraHosts,
  toFileReferences,
  toInt,
  toList,
  toNullableMap,
  toNumber,
  toStringMap,
} from './normalize-values.js';
import type { RawService } from './schema.js';
import type { ComposeDependency, ComposeEnvFile, ComposeServiceNetwork, ComposeUlimit } from './types.js';
import { resolveHostPath } from './volumes.js';

const RESTART = /^(no|always|unless-stopped|on-failure(:\d+)?)$/;
const PULL_POLICY = /^(always|never|build|if_not_present|missing|refresh|daily|weekly|every_(\d+[wdhms])+)$/;

type Path = (string | number)[];
/** Gives a key's canonical value (undefined leaves the key out). */
type KeyNormalizer = (value: never, ctx: NormalizeContext, at: Path) => unknown;

type EnvFileEntry = string | { path: string; required?: boolean | string; format?: string };
type DependsOnEntry = { condition: ComposeDependency['condition']; required?: boolean; restart?: boolean | string };
type UlimitEntry = number | string | { soft: number | string; hard: number | string };
type DeviceEntry = string | { source: string; target?: string; permissions?: string };

function envFiles(v: string | EnvFileEntry[], ctx: NormalizeContext, at: Path): ComposeEnvFile[] {
  return (toList(v as string) as EnvFileEntry[]).map((e, i): ComposeEnvFile => {
    if (typeof e === 'string') return { path: resolveHostPath(e, ctx.baseDir), required: true };
    const f: ComposeEnvFile = {
      path: resolveHostPath(e.path, ctx.baseDir),
      required: e.required === undefined ? true : toBool(e.required, ctx.report, [...at, i, 'required']),
    };
    if (e.format !== undefined) f.format = e.format;
    return f;
  });
}

function expose(v: (string | number)[], ctx: NormalizeContext, at: Path): string[] {
  return v.map((e, i) => {
    const s = String(e);
    if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/.test(s))
      ctx.report([...at, i], `${JSON.stringify(s)} is not a port or a port range`);
    return s;
  });
}

function networks(v: string[] | Record<string, ComposeServiceNetwork | null>) {
  const nets: Record<string, ComposeServiceNetwork | null> = {};
  if (Array.isArray(v)) for (const n of v) nets[n] = null;
  else for (const [n, cfg] of Object.entries(v)) nets[n] = cfg ? { ...cfg } : null;
  return nets;
}

function dependsOn(v: string[] | Record<string, DependsOnEntry>, ctx: NormalizeContext, at: Path) {
  const deps: Record<string, ComposeDependency> = {};
  if (Array.isArray(v)) {
    for (const d of v) deps[d] = { condition: 'service_started', required: true };
    return deps;
  }
  for (const [d, cfg] of Object.entries(v)) {
    const dep: ComposeDependency = { condition: cfg.condition, required: cfg.required ?? true };
    if (cfg.restart !== undefined) dep.restart = toBool(cfg.restart, ctx.report, [...at, d, 'restart']);
    deps[d] = dep;
  }
  return deps;
}

function ulimits(v: Record<string, UlimitEntry>, ctx: NormalizeContext, at: Path) {
  const u: Record<string, ComposeUlimit> = {};
  for (const [name, lim] of Object.entries(v)) {
    if (typeof lim !== 'object') {
      u[name] = toInt(lim, ctx.report, [...at, name]);
      continue;
    }
    const soft = toInt(lim.soft, ctx.report, [...at, name, 'soft']);
    const hard = toInt(lim.hard, ctx.report, [...at, name, 'hard']);
    if (soft > hard) ctx.report([...at, name], `soft limit ${soft} is above hard limit ${hard}`);
    u[name] = { soft, hard };
  }
  return u;
}

function devices(v: DeviceEntry[]) {
  return v.map((d) => {
    if (typeof d !== 'string')
      return { source: d.source, target: d.target ?? d.source, permissions: d.permissions ?? 'rwm' };
    const [source, target, permissions] = d.split(':');
    return { source, target: target ?? source, permissions: permissions ?? 'rwm' };
  });
}

/** A string checked against a pattern, kept as written. */
function checked(pattern: RegExp, what: string, hint: string): KeyNormalizer {
  return (v: string, ctx, at) => {
    if (!pattern.test(v)) ctx.report(at, `${JSON.stringify(v)} is not ${what}`, hint);
    return v;
  };
}

const bool: KeyNormalizer = (v, ctx, at) => toBool(v, ctx.report, at);
const int: KeyNormalizer = (v, ctx, at) => toInt(v, ctx.report, at);
const bytes: KeyNormalizer = (v, ctx, at) => toBytes(v, ctx.report, at);
const stringMap: KeyNormalizer = (v, ctx, at) => toStringMap(v, ctx.report, at);
const commandLine: KeyNormalizer = (v, ctx, at) => toCommand(v, ctx.report, at);
const list: KeyNormalizer = (v) => toList(v);
const fileRefs: KeyNormalizer = (v, ctx, at) => toFileReferences(v, ctx.report, at);

/** The keys whose shape the loader normalises; every other key passes through as validated. */
const KEYS: Record<string, KeyNormalizer> = {
  build: (v, ctx, at) => normalizeBuild(v, ctx, at),
  command: commandLine,
  entrypoint: commandLine,
  environment: (v) => toNullableMap(v),
  labels: stringMap,
  annotations: stringMap,
  sysctls: stringMap,
  env_file: (v, ctx, at) => envFiles(v, ctx, at),
  label_file: (v: string | string[], ctx) => toList(v).map((p) => resolveHostPath(p, ctx.baseDir)),
  ports: (v, ctx, at) => normalizePorts(v, ctx.report, at),
  expose: (v, ctx, at) => expose(v, ctx, at),
  volumes: (v, ctx, at) => normalizeVolumes(v, ctx, at),
  networks: (v) => networks(v),
  depends_on: (v, ctx, at) => dependsOn(v, ctx, at),
  healthcheck: (v, ctx, at) => normalizeHealthcheck(v, ctx.report, at),
  deploy: (v, ctx, at) => (v === null ? undefined : normalizeDeploy(v, ctx.report, at)),
  cpus: (v, ctx, at) => toNumber(v, ctx.report, at),
  mem_limit: bytes,
  mem_reservation: bytes,
  shm_size: bytes,
  memswap_limit: (v: number | string, ctx, at) => (v === -1 || v === '-1' ? -1 : toBytes(v, ctx.report, at)),
  scale: int,
  pids_limit: int,
  cpu_count: int,
  cpu_percent: int,
  mem_swappiness: int,
  oom_score_adj: int,
  stop_grace_period: (v, ctx, at) => toDuration(v, ctx.report, at),
  init: bool,
  privileged: bool,
  read_only: bool,
  tty: bool,
  stdin_open: bool,
  oom_kill_disable: bool,
  tmpfs: list,
  dns_search: list,
  // compose-go's OmitEmpty drops empty entries of dns (and keeps an empty list empty).
  dns: (v: string | string[]) => toList(v).filter((d) => d !== ''),
  gpus: (v, ctx, at) => (Array.isArray(v) ? checkDeviceRequests(v, ctx.report, at, false) : v),
  ulimits: (v, ctx, at) => ulimits(v, ctx, at),
  extra_hosts: (v, ctx, at) => toExtraHosts(v, ctx.report, at),
  secrets: fileRefs,
  configs: fileRefs,
  devices: (v) => devices(v),
  restart: checked(RESTART, 'a restart policy', 'use no, always, on-failure[:max-retries] or unless-stopped'),
  pull_policy: checked(
    PULL_POLICY,
    'a pull policy',
    'use always, never, missing, build, daily, weekly or every_<duration>',
  ),
  extends: (v: string | object) => (typeof v === 'string' ? { service: v } : { ...v }),
  develop: (v: { watch?: { path: string }[] } | null, ctx) =>
    v?.watch ? { ...v, watch: v.watch.map((w) => ({ ...w, path: resolveHostPath(w.path, ctx.baseDir) })) } : v,
};

export function normalizeService(svc: RawService, ctx: NormalizeContext, path: Path): LayerService {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(svc)) {
    if (value === undefined) continue;
    const normalize = Object.hasOwn(KEYS, key) ? KEYS[key] : undefined;
    const v = normalize ? normalize(value as never, ctx, [...path, key]) : value;
    if (v !== undefined) out[key] = v;
  }
  return out as LayerService;
}
