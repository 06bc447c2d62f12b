// The `docker inspect` document of a container: the fields and shapes docker prints, a section a function.
import { inspectMounts, inspectTmpfs } from './container-mounts.js';
import type { ContainerView, HealthcheckConfig } from './types.js';

type Doc = Record<string, unknown>;
type HealthReport = { failingStreak: number; log: unknown[] };

const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : '0001-01-01T00:00:00Z');

/** `-p` specs as HostConfig.PortBindings: `{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}`. */
export function portBindingsOf(ports: readonly string[]): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of ports) {
    const [spec, proto = 'tcp'] = p.split('/');
    const parts = spec.split(':');
    const containerPort = parts.at(-1) ?? spec;
    const hostPort = parts.length > 1 ? (parts.at(-2) ?? '') : '';
    const hostIp = parts.length > 2 ? parts.slice(0, -2).join(':') : '';
    const key = `${containerPort}/${proto}`;
    out[key] = [...(out[key] ?? []), { HostIp: hostIp, HostPort: hostPort }];
  }
  return out;
}

function stateSection({ row, config }: ContainerView, health?: HealthReport): Doc {
  return {
    Status: row.state,
    Running: row.state === 'running' || row.state === 'paused',
    Paused: row.state === 'paused',
    Restarting: row.state === 'restarting',
    OOMKilled: false,
    Dead: row.state === 'dead',
    Pid: row.pid ?? 0,
    ExitCode: row.exitCode ?? 0,
    Error: row.error ?? '',
    StartedAt: iso(row.startedAt),
    FinishedAt: iso(row.finishedAt),
    ...(config.healthcheck
      ? {
          Health: {
            Status: row.health ?? 'starting',
            FailingStreak: health?.failingStreak ?? 0,
            Log: health?.log ?? [],
          },
        }
      : {}),
  };
}

function hostConfigSection({ config }: ContainerView): Doc {
  const c = config.create;
  return {
    Binds: c.volumes ?? [],
    Tmpfs: inspectTmpfs(config.mounts ?? []),
    NetworkMode: 'bridge',
    PortBindings: portBindingsOf(c.ports ?? []),
    RestartPolicy: {
      Name: c.restartPolicy?.name ?? 'no',
      MaximumRetryCount: c.restartPolicy?.maximumRetryCount ?? 0,
    },
    AutoRemove: c.autoRemove ?? false,
    Memory: config.memoryMiB * 1024 * 1024,
    NanoCpus: Math.round((c.cpus ?? config.cpus) * 1e9),
  };
}

/** Config.Healthcheck: durations in nanoseconds, as docker stores them. */
function healthcheckSection(hc: HealthcheckConfig): Doc {
  return {
    Test: hc.test,
    Interval: (hc.intervalMs ?? 0) * 1e6,
    Timeout: (hc.timeoutMs ?? 0) * 1e6,
    StartPeriod: (hc.startPeriodMs ?? 0) * 1e6,
    Retries: hc.retries ?? 0,
  };
}

function configSection({ row, config }: ContainerView): Doc {
  const c = config.create;
  return {
    Hostname: config.hostname,
    User: config.user ?? '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    ExposedPorts: config.exposedPorts,
    Tty: c.tty ?? false,
    OpenStdin: c.openStdin ?? false,
    Env: config.env,
    Cmd: config.cmd,
    ...(config.healthcheck ? { Healthcheck: healthcheckSection(config.healthcheck) } : {}),
    Image: row.imageRef,
    WorkingDir: config.workdir ?? '',
    Entrypoint: config.entrypoint,
    Labels: JSON.parse(row.labels) as Record<string, string>,
    StopSignal: config.stopSignal,
    StopTimeout: config.stopTimeoutSeconds,
  };
}

/** The `docker inspect` document of a container (NetworkSettings are filled by the network manager). */
export function inspectContainer(v: ContainerView, dir: string, health?: HealthReport): Doc {
  const { row, config } = v;
  return {
    Id: row.id,
    Created: iso(row.createdAt),
    Path: config.path,
    Args: config.args,
    State: stateSection(v, health),
    Image: config.imageId,
    ResolvConfPath: '',
    HostnamePath: '',
    HostsPath: '',
    LogPath: `${dir}/container.log`,
    Name: `/${row.name}`,
    RestartCount: row.restartCount,
    Driver: 'hypr-microvm',
    Platform: 'linux',
    HostConfig: hostConfigSection(v),
    Mounts: inspectMounts(config.mounts ?? []),
    Config: configSection(v),
    NetworkSettings: {
      Ports: {},
      Networks: { bridge: { IPAddress: '', Gateway: '', MacAddress: '', NetworkID: '' } },
    },
  };
}
