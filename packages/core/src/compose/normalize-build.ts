/** Phase 4 for `build`, `healthcheck` and `deploy`: paths resolved, durations and sizes canonical. */
import type { NormalizeContext } from './layer-types.js';
import {
  type Report,
  toBool,
  toBytes,
  toDuration,
  toExtraHosts,
  toFileReferences,
  toInt,
  toNullableMap,
  toNumber,
  toStringMap,
} from './normalize-values.js';
import type { RawBuild, RawService } from './schema.js';
import type { ComposeBuild, ComposeHealthcheck } from './types.js';
import { resolveHostPath } from './volumes.js';

/** A context that is not a local path (compose-go paths/context.go): a URL, `service:…`, git. */
function isRemoteContext(context: string): boolean {
  return (
    context.includes('://') ||
    context.startsWith('service:') ||
    context.startsWith('git@') ||
    context.startsWith('github.com/')
  );
}

/** `build.ssh` entries `ID=path` (or `ID: path`) with their paths made absolute, as compose-go does. */
function resolveSshPaths(v: string | string[] | Record<string, unknown>, baseDir: string) {
  const one = (entry: string) => {
    const eq = entry.indexOf('=');
    return eq < 0 || entry.slice(eq + 1) === ''
      ? entry
      : `${entry.slice(0, eq + 1)}${resolveHostPath(entry.slice(eq + 1), baseDir)}`;
  };
  if (typeof v === 'string') return one(v);
  if (Array.isArray(v)) return v.map(one);
  const out: Record<string, unknown> = {};
  for (const [id, p] of Object.entries(v))
    out[id] = typeof p === 'string' && p !== '' ? resolveHostPath(p, baseDir) : p;
  return out;
}

export function normalizeBuild(b: RawBuild, ctx: NormalizeContext, path: (string | number)[]): Partial<ComposeBuild> {
  const resolveContext = (c: string) => (isRemoteContext(c) ? c : resolveHostPath(c, ctx.baseDir));
  if (typeof b === 'string') return { context: resolveContext(b) };
  const { report } = ctx;
  const out: Partial<ComposeBuild> = {};
  for (const [k, v] of Object.entries(b)) {
    if (v === undefined) continue;
    switch (k) {
      case 'context':
        out.context = resolveContext(v as string);
        break;
      case 'args':
        out.args = toNullableMap(v as string[]);
        break;
      case 'labels':
        out.labels = toStringMap(v as string[], report, [...path, k]);
        break;
      case 'additional_contexts': {
        const contexts = toStringMap(v as string[], report, [...path, k]);
        for (const [name, c] of Object.entries(contexts)) contexts[name] = resolveContext(c);
        out.additional_contexts = contexts;
        break;
      }
      case 'ssh':
        out.ssh = resolveSshPaths(v as string | string[] | Record<string, unknown>, ctx.baseDir);
        break;
      case 'extra_hosts':
        out.extra_hosts = toExtraHosts(v as string[], report, [...path, k]);
        break;
      case 'secrets':
        out.secrets = toFileReferences(v as string[], report, [...path, k]);
        break;
      case 'shm_size':
        out.shm_size = toBytes(v as string, report, [...path, k]);
        break;
      case 'no_cache':
      case 'pull':
      case 'privileged':
        out[k] = toBool(v as string, report, [...path, k]);
        break;
      default:
        out[k] = v;
    }
  }
  // The context defaults to the project directory; applied here so later files can still override it.
  return out;
}

export function normalizeHealthcheck(
  h: NonNullable<RawService['healthcheck']>,
  report: Report,
  path: (string | number)[],
): ComposeHealthcheck {
  const out: ComposeHealthcheck = {};
  if (h.test !== undefined) {
    if (typeof h.test === 'string') out.test = ['CMD-SHELL', h.test];
    else {
      if (h.test.length === 0 || !['CMD', 'CMD-SHELL', 'NONE'].includes(h.test[0])) {
        report(
          [...path, 'test'],
          'a list test must start with "CMD", "CMD-SHELL" or "NONE"',
          'for example ["CMD", "curl", "-f", "http://localhost"]',
        );
      }
      out.test = h.test;
    }
  }
  for (const k of ['interval', 'timeout', 'start_period', 'start_interval'] as const) {
    if (h[k] !== undefined) out[k] = toDuration(h[k], report, [...path, k]);
  }
  if (h.retries !== undefined) out.retries = toInt(h.retries, report, [...path, 'retries']);
  if (h.disable !== undefined) out.disable = toBool(h.disable, report, [...path, 'disable']);
  return out;
}

function normalizeResources(r: Record<string, unknown>, report: Report, path: (string | number)[]) {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) {
    if (v === undefined) continue;
    if (k === 'cpus') out.cpus = toNumber(v as string, report, [...path, k]);
    else if (k === 'memory') out.memory = toBytes(v as string, report, [...path, k]);
    else if (k === 'pids') out.pids = toInt(v as string, report, [...path, k]);
    else if (k === 'devices') out.devices = checkDeviceRequests(v as DeviceRequest[], report, [...path, k], true);
    else out[k] = v;
  }
  return out;
}

interface DeviceRequest {
  capabilities?: string[];
  count?: number | string;
  device_ids?: string[];
  [key: string]: unknown;
}

/**
 * Device requests (`deploy.resources.reservations.devices`, `gpus`) as compose-go checks them:
 * `count` and `device_ids` exclude each other, `count` is a number or "all", and a reservation names
 * its capabilities.
 */
export function checkDeviceRequests(
  list: DeviceRequest[],
  report: Report,
  path: (string | number)[],
  capabilitiesRequired: boolean,
): DeviceRequest[] {
  list.forEach((d, i) => {
    if (d.count !== undefined && d.device_ids !== undefined) {
      report([...path, i], '"count" and "device_ids" attributes are exclusive', 'keep one of them');
    }
    if (typeof d.count === 'string' && d.count.toLowerCase() !== 'all' && !/^[-+]?\d+$/.test(d.count)) {
      report(
        [...path, i, 'count'],
        `invalid value ${JSON.stringify(d.count)}, the only value allowed is 'all' or a number`,
      );
    }
    if (capabilitiesRequired && d.capabilities === undefined) {
      report([...path, i, 'capabilities'], 'is required', 'for example capabilities: [gpu]');
    }
  });
  return list;
}

export function normalizeDeploy(d: NonNullable<RawService['deploy']>, report: Report, path: (string | number)[]) {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(d)) {
    if (v === undefined) continue;
    if (k === 'replicas') out.replicas = toInt(v as string, report, [...path, k]);
    else if (k === 'labels') out.labels = toStringMap(v as string[], report, [...path, k]);
    else if (k === 'resources') {
      const r = v as Record<string, Record<string, unknown> | undefined>;
      const res: Record<string, unknown> = {};
      if (r.limits) res.limits = normalizeResources(r.limits, report, [...path, k, 'limits']);
      if (r.reservations) res.reservations = normalizeResources(r.reservations, report, [...path, k, 'reservations']);
      out.resources = res;
    } else if (k === 'restart_policy') {
      const rp = v as { condition?: string; delay?: string; max_attempts?: number | string; window?: string };
      const o: Record<string, unknown> = {};
      if (rp.condition !== undefined) {
        if (!['none', 'on-failure', 'any'].includes(rp.condition)) {
          report(
            [...path, k, 'condition'],
            `must be one of none, on-failure, any (got ${JSON.stringify(rp.condition)})`,
          );
        }
        o.condition = rp.condition;
      }
      if (rp.delay !== undefined) o.delay = toDuration(rp.delay, report, [...path, k, 'delay']);
      if (rp.window !== undefined) o.window = toDuration(rp.window, report, [...path, k, 'window']);
      if (rp.max_attempts !== undefined) o.max_attempts = toInt(rp.max_attempts, report, [...path, k, 'max_attempts']);
      out.restart_policy = o;
    } else out[k] = v;
  }
  return out;
}
