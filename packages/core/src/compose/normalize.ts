/**
 * Phase 4: each validated file is brought to the canonical shapes of the model (long port and volume
 * syntax, mappings for KEY=VALUE lists, absolute paths, canonical durations, sizes in bytes) before files
 * are merged, so that merging compares like with like. Defaults that depend on the merged result
 * (build's Dockerfile, the default network, resource names) are applied after the merge, in load.ts.
 */
import { isIP } from 'node:net';
import { type ComposePort, PortSyntaxError, parseShortPort } from './ports.js';
import type { RawBuild, RawComposeFile, RawService } from './schema.js';
import { splitShellWords } from './shell-words.js';
import type {
  ComposeBuild,
  ComposeDependency,
  ComposeEnvFile,
  ComposeFileObject,
  ComposeFileReference,
  ComposeHealthcheck,
  ComposeNetwork,
  ComposeService,
  ComposeServiceNetwork,
  ComposeUlimit,
  ComposeVolume,
} from './types.js';
import { normalizeDuration, parseBytes } from './units.js';
import { type ComposeVolumeMount, VolumeSyntaxError, parseShortVolume, resolveHostPath } from './volumes.js';

export type Report = (path: (string | number)[], message: string, hint?: string) => void;

/** A service of one file, before extends and merging: canonical shapes, no defaults yet. */
export type LayerService = Partial<ComposeService> & { extends?: { service: string; file?: string } };

/** One compose file in canonical form. */
export interface ComposeLayer {
  name?: string;
  services: Record<string, LayerService>;
  networks: Record<string, Partial<ComposeNetwork>>;
  volumes: Record<string, Partial<ComposeVolume>>;
  secrets: Record<string, Partial<ComposeFileObject>>;
  configs: Record<string, Partial<ComposeFileObject>>;
}

export interface NormalizeContext {
  /** Directory relative paths are resolved against. */
  baseDir: string;
  report: Report;
}

export function normalizeLayer(raw: RawComposeFile, ctx: NormalizeContext): ComposeLayer {
  const layer: ComposeLayer = { services: {}, networks: {}, volumes: {}, secrets: {}, configs: {} };
  if (raw.name !== undefined) layer.name = raw.name;
  for (const [name, svc] of Object.entries(raw.services ?? {})) {
    layer.services[name] = normalizeService(svc, ctx, ['services', name]);
  }
  for (const [name, net] of Object.entries(raw.networks ?? {})) {
    const n: Partial<ComposeNetwork> = {};
    if (net) {
      copyDefined(n, net, ['name', 'driver', 'driver_opts', 'ipam']);
      for (const k of ['internal', 'attachable', 'enable_ipv4', 'enable_ipv6'] as const) {
        if (net[k] !== undefined) n[k] = toBool(net[k], ctx.report, ['networks', name, k]);
      }
      if (net.labels !== undefined) n.labels = toStringMap(net.labels, ctx.report, ['networks', name, 'labels']);
      applyExternal(n, net.external, ctx.report, ['networks', name]);
    }
    layer.networks[name] = n;
  }
  for (const [name, vol] of Object.entries(raw.volumes ?? {})) {
    const v: Partial<ComposeVolume> = {};
    if (vol) {
      copyDefined(v, vol, ['name', 'driver', 'driver_opts']);
      if (vol.labels !== undefined) v.labels = toStringMap(vol.labels, ctx.report, ['volumes', name, 'labels']);
      applyExternal(v, vol.external, ctx.report, ['volumes', name]);
    }
    layer.volumes[name] = v;
  }
  for (const kind of ['secrets', 'configs'] as const) {
    for (const [name, obj] of Object.entries(raw[kind] ?? {})) {
      const o: Partial<ComposeFileObject> = {};
      copyDefined(o, obj, ['name', 'environment', 'content', 'driver', 'driver_opts', 'template_driver']);
      if (obj.file !== undefined) o.file = resolveHostPath(obj.file, ctx.baseDir);
      if (obj.labels !== undefined) o.labels = toStringMap(obj.labels, ctx.report, [kind, name, 'labels']);
      applyExternal(o, obj.external, ctx.report, [kind, name]);
      layer[kind][name] = o;
    }
  }
  return layer;
}

function applyExternal(
  target: { external?: boolean; name?: string },
  external: boolean | string | { name?: string } | undefined,
  report: Report,
  path: (string | number)[],
): void {
  if (external === undefined) return;
  if (typeof external === 'object') {
    target.external = true;
    if (external.name !== undefined) {
      if (target.name !== undefined && target.name !== external.name) {
        report([...path, 'external', 'name'], `conflicts with name ${JSON.stringify(target.name)}`);
      }
      target.name = external.name;
    }
    return;
  }
  target.external = toBool(external, report, [...path, 'external']);
}

function copyDefined<T extends object, S extends object>(target: T, source: S, keys: (keyof S & keyof T)[]): void {
  for (const k of keys) if (source[k] !== undefined) (target as Record<string, unknown>)[k as string] = source[k];
}

export function toBool(v: boolean | string, report: Report, path: (string | number)[]): boolean {
  if (typeof v === 'boolean') return v;
  const s = v.toLowerCase();
  if (['true', 'yes', 'y', 'on', '1'].includes(s)) return true;
  if (['false', 'no', 'n', 'off', '0', ''].includes(s)) return false;
  report(path, `must be a boolean (got ${JSON.stringify(v)})`);
  return false;
}

function toInt(v: number | string, report: Report, path: (string | number)[]): number {
  const n = typeof v === 'number' ? v : /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : Number.NaN;
  if (!Number.isInteger(n)) report(path, `must be an integer (got ${JSON.stringify(v)})`);
  return n;
}

function toNumber(v: number | string, report: Report, path: (string | number)[]): number {
  const n = typeof v === 'number' ? v : Number(v.trim());
  if (typeof v === 'string' && (v.trim() === '' || !Number.isFinite(n))) {
    report(path, `must be a number (got ${JSON.stringify(v)})`);
  }
  return n;
}

function toBytes(v: number | string, report: Report, path: (string | number)[]): number {
  const n = parseBytes(v);
  if (n === undefined) {
    report(path, `${JSON.stringify(v)} is not a size`, 'write a number of bytes or a size such as "512m" or "2g"');
    return 0;
  }
  return n;
}

function toDuration(v: string, report: Report, path: (string | number)[]): string {
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
function toStringMap(
  v: Record<string, string | number | boolean | null> | string[],
  _report: Report,
  _path: (string | number)[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(toNullableMap(v))) out[k] = val ?? '';
  return out;
}

function toCommand(v: string | string[] | null, report: Report, path: (string | number)[]): string[] | null {
  if (v === null || Array.isArray(v)) return v;
  try {
    return splitShellWords(v);
  } catch (e) {
    report(path, (e as Error).message);
    return [v];
  }
}

function toList(v: string | string[]): string[] {
  return typeof v === 'string' ? [v] : v;
}

function toExtraHosts(v: Record<string, string | string[]> | string[], report: Report, path: (string | number)[]) {
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

function toFileReferences(
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

function isRemoteContext(context: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(context) || context.startsWith('git@') || context.startsWith('github.com/');
}

function normalizeBuild(b: RawBuild, ctx: NormalizeContext, path: (string | number)[]): Partial<ComposeBuild> {
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
      case 'additional_contexts':
        out.additional_contexts = toStringMap(v as string[], report, [...path, k]);
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

function normalizePorts(
  ports: NonNullable<RawService['ports']>,
  report: Report,
  path: (string | number)[],
): ComposePort[] {
  const out: ComposePort[] = [];
  ports.forEach((p, i) => {
    if (typeof p === 'string' || typeof p === 'number') {
      try {
        out.push(...parseShortPort(p));
      } catch (e) {
        if (!(e instanceof PortSyntaxError)) throw e;
        report([...path, i], e.message, e.hint);
      }
      return;
    }
    if (p.target === undefined) {
      report([...path, i, 'target'], 'is required');
      return;
    }
    const target = toInt(p.target, report, [...path, i, 'target']);
    if (Number.isInteger(target) && (target < 1 || target > 65535)) {
      report([...path, i, 'target'], `port ${target} is outside 1-65535`);
    }
    const port: ComposePort = { mode: p.mode ?? 'ingress', target, protocol: (p.protocol ?? 'tcp').toLowerCase() };
    if (p.name !== undefined) port.name = p.name;
    if (p.host_ip !== undefined) {
      if (isIP(p.host_ip) === 0) report([...path, i, 'host_ip'], `${JSON.stringify(p.host_ip)} is not an IP address`);
      port.host_ip = p.host_ip;
    }
    if (p.published !== undefined && p.published !== '') {
      const published = String(p.published);
      if (!/^\d+(-\d+)?$/.test(published)) {
        report([...path, i, 'published'], `${JSON.stringify(published)} is not a port or a port range`);
      }
      port.published = published;
    }
    if (!['tcp', 'udp', 'sctp'].includes(port.protocol)) {
      report([...path, i, 'protocol'], `must be one of tcp, udp, sctp (got ${JSON.stringify(p.protocol)})`);
    }
    if (p.app_protocol !== undefined) port.app_protocol = p.app_protocol;
    out.push(port);
  });
  return out;
}

function normalizeVolumes(
  volumes: NonNullable<RawService['volumes']>,
  ctx: NormalizeContext,
  path: (string | number)[],
): ComposeVolumeMount[] {
  const { report } = ctx;
  const out: ComposeVolumeMount[] = [];
  volumes.forEach((v, i) => {
    const at = [...path, i];
    if (typeof v === 'string') {
      try {
        out.push(parseShortVolume(v, ctx.baseDir));
      } catch (e) {
        if (!(e instanceof VolumeSyntaxError)) throw e;
        report(at, e.message, e.hint);
      }
      return;
    }
    if (v.target === undefined) {
      report([...at, 'target'], 'is required');
      return;
    }
    if (!v.target.startsWith('/') && v.type !== 'npipe') {
      report([...at, 'target'], `${JSON.stringify(v.target)} is not an absolute path`);
    }
    const m: ComposeVolumeMount = { type: v.type, target: v.target };
    if (v.source !== undefined && v.source !== '') {
      m.source = v.type === 'bind' ? resolveHostPath(v.source, ctx.baseDir) : v.source;
    } else if (v.type === 'bind') {
      report([...at, 'source'], 'is required for a bind mount');
    }
    if (v.source && v.type === 'tmpfs') report([...at, 'source'], 'is not allowed for a tmpfs mount');
    if (v.read_only !== undefined && toBool(v.read_only, report, [...at, 'read_only'])) m.read_only = true;
    if (v.consistency !== undefined) m.consistency = v.consistency;
    if (v.bind) {
      if (v.type !== 'bind') report([...at, 'bind'], `applies to bind mounts, not ${v.type}`);
      const { create_host_path, ...rest } = v.bind;
      m.bind = { ...rest };
      if (create_host_path !== undefined) {
        m.bind.create_host_path = toBool(create_host_path, report, [...at, 'bind', 'create_host_path']);
      }
    }
    if (v.volume) {
      if (v.type !== 'volume') report([...at, 'volume'], `applies to volumes, not ${v.type}`);
      const vol: NonNullable<ComposeVolumeMount['volume']> = {};
      if (v.volume.nocopy !== undefined) vol.nocopy = toBool(v.volume.nocopy, report, [...at, 'volume', 'nocopy']);
      if (v.volume.subpath !== undefined) vol.subpath = v.volume.subpath;
      if (v.volume.labels !== undefined) vol.labels = toStringMap(v.volume.labels, report, [...at, 'volume', 'labels']);
      m.volume = vol;
    }
    if (v.tmpfs) {
      if (v.type !== 'tmpfs') report([...at, 'tmpfs'], `applies to tmpfs mounts, not ${v.type}`);
      const t: NonNullable<ComposeVolumeMount['tmpfs']> = {};
      if (v.tmpfs.size !== undefined) t.size = toBytes(v.tmpfs.size, report, [...at, 'tmpfs', 'size']);
      if (v.tmpfs.mode !== undefined) {
        t.mode = typeof v.tmpfs.mode === 'number' ? v.tmpfs.mode : Number.parseInt(v.tmpfs.mode, 8);
      }
      m.tmpfs = t;
    }
    if (v.image) m.image = { ...v.image };
    out.push(m);
  });
  return out;
}

function normalizeHealthcheck(
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
    else out[k] = v;
  }
  return out;
}

function normalizeDeploy(d: NonNullable<RawService['deploy']>, report: Report, path: (string | number)[]) {
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

const RESTART = /^(no|always|unless-stopped|on-failure(:\d+)?)$/;
const PULL_POLICY = /^(always|never|build|if_not_present|missing|refresh|daily|weekly|every_(\d+[wdhms])+)$/;

export function normalizeService(svc: RawService, ctx: NormalizeContext, path: (string | number)[]): LayerService {
  const { report } = ctx;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(svc)) {
    if (value === undefined) continue;
    const at = [...path, key];
    const v = value as never;
    switch (key) {
      case 'build':
        out.build = normalizeBuild(v, ctx, at);
        break;
      case 'command':
      case 'entrypoint':
        out[key] = toCommand(v, report, at);
        break;
      case 'environment':
        out.environment = toNullableMap(v);
        break;
      case 'labels':
      case 'annotations':
      case 'sysctls':
        out[key] = toStringMap(v, report, at);
        break;
      case 'env_file':
        out.env_file = (toList(v) as (string | { path: string; required?: boolean | string; format?: string })[]).map(
          (e, i): ComposeEnvFile => {
            if (typeof e === 'string') return { path: resolveHostPath(e, ctx.baseDir), required: true };
            const f: ComposeEnvFile = {
              path: resolveHostPath(e.path, ctx.baseDir),
              required: e.required === undefined ? true : toBool(e.required, report, [...at, i, 'required']),
            };
            if (e.format !== undefined) f.format = e.format;
            return f;
          },
        );
        break;
      case 'label_file':
        out.label_file = toList(v).map((p) => resolveHostPath(p, ctx.baseDir));
        break;
      case 'ports':
        out.ports = normalizePorts(v, report, at);
        break;
      case 'expose':
        out.expose = (v as (string | number)[]).map((e, i) => {
          const s = String(e);
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/.test(s))
            report([...at, i], `${JSON.stringify(s)} is not a port or a port range`);
          return s;
        });
        break;
      case 'volumes':
        out.volumes = normalizeVolumes(v, ctx, at);
        break;
      case 'networks': {
        const nets: Record<string, ComposeServiceNetwork | null> = {};
        if (Array.isArray(v)) for (const n of v as string[]) nets[n] = null;
        else
          for (const [n, cfg] of Object.entries(v as Record<string, ComposeServiceNetwork | null>))
            nets[n] = cfg ? { ...cfg } : null;
        out.networks = nets;
        break;
      }
      case 'depends_on': {
        const deps: Record<string, ComposeDependency> = {};
        if (Array.isArray(v)) {
          for (const d of v as string[]) deps[d] = { condition: 'service_started', required: true };
        } else {
          for (const [d, cfg] of Object.entries(
            v as Record<
              string,
              { condition: ComposeDependency['condition']; required?: boolean; restart?: boolean | string }
            >,
          )) {
            const dep: ComposeDependency = { condition: cfg.condition, required: cfg.required ?? true };
            if (cfg.restart !== undefined) dep.restart = toBool(cfg.restart, report, [...at, d, 'restart']);
            deps[d] = dep;
          }
        }
        out.depends_on = deps;
        break;
      }
      case 'healthcheck':
        out.healthcheck = normalizeHealthcheck(v, report, at);
        break;
      case 'deploy':
        if (value !== null) out.deploy = normalizeDeploy(v, report, at);
        break;
      case 'cpus':
        out.cpus = toNumber(v, report, at);
        break;
      case 'mem_limit':
      case 'mem_reservation':
      case 'shm_size':
        out[key] = toBytes(v, report, at);
        break;
      case 'memswap_limit':
        out[key] = value === -1 || value === '-1' ? -1 : toBytes(v, report, at);
        break;
      case 'scale':
      case 'pids_limit':
      case 'cpu_count':
      case 'cpu_percent':
      case 'mem_swappiness':
      case 'oom_score_adj':
        out[key] = toInt(v, report, at);
        break;
      case 'stop_grace_period':
        out.stop_grace_period = toDuration(v, report, at);
        break;
      case 'init':
      case 'privileged':
      case 'read_only':
      case 'tty':
      case 'stdin_open':
      case 'oom_kill_disable':
        out[key] = toBool(v, report, at);
        break;
      case 'tmpfs':
      case 'dns':
      case 'dns_search':
        out[key] = toList(v);
        break;
      case 'ulimits': {
        const u: Record<string, ComposeUlimit> = {};
        for (const [name, lim] of Object.entries(
          v as Record<string, number | string | { soft: number | string; hard: number | string }>,
        )) {
          if (typeof lim === 'object') {
            const soft = toInt(lim.soft, report, [...at, name, 'soft']);
            const hard = toInt(lim.hard, report, [...at, name, 'hard']);
            if (soft > hard) report([...at, name], `soft limit ${soft} is above hard limit ${hard}`);
            u[name] = { soft, hard };
          } else u[name] = toInt(lim, report, [...at, name]);
        }
        out.ulimits = u;
        break;
      }
      case 'extra_hosts':
        out.extra_hosts = toExtraHosts(v, report, at);
        break;
      case 'secrets':
      case 'configs':
        out[key] = toFileReferences(v, report, at);
        break;
      case 'devices':
        out.devices = (v as (string | { source: string; target?: string; permissions?: string })[]).map((d) => {
          if (typeof d !== 'string')
            return { source: d.source, target: d.target ?? d.source, permissions: d.permissions ?? 'rwm' };
          const [source, target, permissions] = d.split(':');
          return { source, target: target ?? source, permissions: permissions ?? 'rwm' };
        });
        break;
      case 'restart':
        if (!RESTART.test(value as string)) {
          report(
            at,
            `${JSON.stringify(value)} is not a restart policy`,
            'use no, always, on-failure[:max-retries] or unless-stopped',
          );
        }
        out.restart = value;
        break;
      case 'pull_policy':
        if (!PULL_POLICY.test(value as string)) {
          report(
            at,
            `${JSON.stringify(value)} is not a pull policy`,
            'use always, never, missing, build, daily, weekly or every_<duration>',
          );
        }
        out.pull_policy = value;
        break;
      case 'extends':
        out.extends = typeof value === 'string' ? { service: value } : { ...(value as object) };
        break;
      default:
        out[key] = value;
    }
  }
  return out as LayerService;
}
