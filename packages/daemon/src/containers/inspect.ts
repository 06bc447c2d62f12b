import { inspectMounts, inspectTmpfs } from './container-mounts.js';
import type { ContainerView } from './types.js';

const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : '0001-01-01T00:00:00Z');

/** The `docker inspect` document of a container: the fields and shapes docker prints. */
export function inspectContainer(
  v: ContainerView,
  dir: string,
  health?: { failingStreak: number; log: unknown[] },
): Record<string, unknown> {
  const { row, config } = v;
  const c = config.create;
  const labels = JSON.parse(row.labels) as Record<string, string>;
  const portBindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of c.ports ?? []) {
    const [spec, proto = 'tcp'] = p.split('/');
    const parts = spec.split(':');
    const containerPort = parts.at(-1) ?? spec;
    const hostPort = parts.length > 1 ? (parts.at(-2) ?? '') : '';
    const hostIp = parts.length > 2 ? parts.slice(0, -2).join(':') : '';
    const key = `${containerPort}/${proto}`;
    portBindings[key] = [...(portBindings[key] ?? []), { HostIp: hostIp, HostPort: hostPort }];
  }
  const hc = config.healthcheck;
  return {
    Id: row.id,
    Created: iso(row.createdAt),
    Path: config.path,
    Args: config.args,
    State: {
      Status: row.state,
      Running: row.state === 'running',
      Paused: false,
      Restarting: row.state === 'restarting',
      OOMKilled: false,
      Dead: row.state === 'dead',
      Pid: row.pid ?? 0,
      ExitCode: row.exitCode ?? 0,
      Error: row.error ?? '',
      StartedAt: iso(row.startedAt),
      FinishedAt: iso(row.finishedAt),
      ...(hc
        ? {
            Health: {
              Status: row.health ?? 'starting',
              FailingStreak: health?.failingStreak ?? 0,
              Log: health?.log ?? [],
            },
          }
        : {}),
    },
    Image: config.imageId,
    ResolvConfPath: '',
    HostnamePath: '',
    HostsPath: '',
    LogPath: `${dir}/container.log`,
    Name: `/${row.name}`,
    RestartCount: row.restartCount,
    Driver: 'hypr-microvm',
    Platform: 'linux',
    HostConfig: {
      Binds: c.volumes ?? [],
      Tmpfs: inspectTmpfs(config.mounts ?? []),
      NetworkMode: 'bridge',
      PortBindings: portBindings,
      RestartPolicy: {
        Name: c.restartPolicy?.name ?? 'no',
        MaximumRetryCount: c.restartPolicy?.maximumRetryCount ?? 0,
      },
      AutoRemove: c.autoRemove ?? false,
      Memory: config.memoryMiB * 1024 * 1024,
      NanoCpus: Math.round((c.cpus ?? config.cpus) * 1e9),
    },
    Mounts: inspectMounts(config.mounts ?? []),
    Config: {
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
      ...(hc
        ? {
            Healthcheck: {
              Test: hc.test,
              Interval: (hc.intervalMs ?? 0) * 1e6,
              Timeout: (hc.timeoutMs ?? 0) * 1e6,
              StartPeriod: (hc.startPeriodMs ?? 0) * 1e6,
              Retries: hc.retries ?? 0,
            },
          }
        : {}),
      Image: row.imageRef,
      WorkingDir: config.workdir ?? '',
      Entrypoint: config.entrypoint,
      Labels: labels,
      StopSignal: config.stopSignal,
      StopTimeout: config.stopTimeoutSeconds,
    },
    NetworkSettings: {
      Ports: {},
      Networks: { bridge: { IPAddress: '', Gateway: '', MacAddress: '', NetworkID: '' } },
    },
  };
}
