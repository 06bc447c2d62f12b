/**
 * Config resolution: the image's config (Entrypoint, Cmd, Env, WorkingDir, User, StopSignal,
 * ExposedPorts, Healthcheck) merged with the create options as docker does, into the config stored
 * with the container. Pure: the daemon.json defaults are passed in.
 */
import { type ImageRecord, resolveImageRunSpec } from '@hypr/core';
import type { DaemonConfig } from '../config/index.js';
import { normalizeSignalOr } from './signals.js';
import type { CreateContainerOptions, HealthcheckConfig, StoredContainerConfig } from './types.js';

/** The daemon.json keys that fill what a container does not ask for. */
export type ContainerDefaults = Pick<DaemonConfig, 'default-cpus' | 'default-memory-mib' | 'stop-timeout'>;

/** An image's HEALTHCHECK as stored in its config (durations in nanoseconds). */
interface ImageHealthcheck {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  Retries?: number;
}

/** The image config fields docker reads beyond the run spec. */
interface ImageConfigExtras {
  Healthcheck?: ImageHealthcheck;
  StopSignal?: string;
  ExposedPorts?: Record<string, object>;
}

const nsToMs = (ns: number | undefined) => (ns ? ns / 1e6 : undefined);

/** The image's health check, unless it is absent or `NONE`. */
export function imageHealthcheck(h: ImageHealthcheck | undefined): HealthcheckConfig | undefined {
  if (!h?.Test || h.Test[0] === 'NONE') return undefined;
  return {
    test: h.Test,
    intervalMs: nsToMs(h.Interval),
    timeoutMs: nsToMs(h.Timeout),
    startPeriodMs: nsToMs(h.StartPeriod),
    retries: h.Retries,
  };
}

/** vCPUs: --cpus rounded up to whole vCPUs (at least 1), else the default. */
export function resolveCpus(cpus: number | undefined, defaults: ContainerDefaults): number {
  return cpus && cpus > 0 ? Math.max(1, Math.ceil(cpus)) : defaults['default-cpus'];
}

/** Memory: --memory in MiB (at least 32), else the default. */
export function resolveMemoryMiB(memoryBytes: number | undefined, defaults: ContainerDefaults): number {
  return memoryBytes && memoryBytes > 0
    ? Math.max(32, Math.floor(memoryBytes / 1024 / 1024))
    : defaults['default-memory-mib'];
}

export function resolveContainerConfig(
  image: ImageRecord,
  opts: CreateContainerOptions,
  defaults: ContainerDefaults,
): StoredContainerConfig {
  const ic = image.config.config ?? {};
  const extras = ic as ImageConfigExtras;
  const entrypoint = opts.entrypoint === undefined ? undefined : opts.entrypoint === '' ? [] : [opts.entrypoint];
  const run = resolveImageRunSpec(image.config, {
    command: opts.command,
    entrypoint,
    env: opts.env,
    workdir: opts.workdir,
    user: opts.user,
  });
  const healthcheck = opts.noHealthcheck ? undefined : (opts.healthcheck ?? imageHealthcheck(extras.Healthcheck));
  const cmd = opts.command?.length ? opts.command : entrypoint ? null : (ic.Cmd ?? null);
  return {
    create: opts,
    argv: run.argv,
    path: run.argv[0],
    args: run.argv.slice(1),
    env: run.env,
    workdir: run.workdir,
    user: run.user,
    hostname: opts.hostname ?? '',
    stopSignal: opts.stopSignal ?? normalizeSignalOr(extras.StopSignal, 'SIGTERM'),
    stopTimeoutSeconds: opts.stopTimeoutSeconds ?? defaults['stop-timeout'],
    cpus: resolveCpus(opts.cpus, defaults),
    memoryMiB: resolveMemoryMiB(opts.memoryBytes, defaults),
    imageId: image.configDigest,
    entrypoint: entrypoint ?? ic.Entrypoint ?? null,
    cmd,
    exposedPorts: extras.ExposedPorts ?? {},
    ...(healthcheck ? { healthcheck } : {}),
  };
}
