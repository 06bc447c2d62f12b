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
/** Phase 4 for a service: each key to its canonical shape (the others pass through as validated). */
import type { LayerService, NormalizeContext } from './normalize.js';
import type { RawService } from './schema.js';
import type { ComposeDependency, ComposeEnvFile, ComposeServiceNetwork, ComposeUlimit } from './types.js';
import { resolveHostPath } from './volumes.js';

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
      case 'dns_search':
        out[key] = toList(v);
        break;
      case 'dns':
        // compose-go's OmitEmpty drops empty entries of dns (and keeps an empty list empty).
        out.dns = toList(v).filter((d) => d !== '');
        break;
      case 'gpus':
        out.gpus = Array.isArray(value) ? checkDeviceRequests(v, report, at, false) : value;
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
