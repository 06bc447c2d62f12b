import { posix } from 'node:path';
import type { DockerfileCommand, DockerfileStep } from '../dockerfile/index.js';
import type { ImageConfig, ImageRuntimeConfig } from '../image/manifest.js';

/**
 * The image config a stage accumulates: the base image's runtime config, then ENV, WORKDIR, USER,
 * LABEL, EXPOSE, CMD, ENTRYPOINT, VOLUME, STOPSIGNAL, HEALTHCHECK, SHELL and ONBUILD applied in
 * order, as docker does (CMD is reset by a later ENTRYPOINT; a HEALTHCHECK NONE disables the base
 * image's check).
 */

export type HistoryEntry = NonNullable<ImageConfig['history']>[number];

/** The runtime config fields we write, with docker's extra ones (Healthcheck, Shell, OnBuild). */
export type BuildRuntimeConfig = ImageRuntimeConfig & {
  Healthcheck?: {
    Test: string[];
    Interval?: number;
    Timeout?: number;
    StartPeriod?: number;
    StartInterval?: number;
    Retries?: number;
  };
  Shell?: string[];
  OnBuild?: string[] | null;
};

/** Parses "K=V" entries into an ordered map. */
export function envMap(env: readonly string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    m.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
  return m;
}

export function envList(m: Map<string, string>): string[] {
  return [...m].map(([k, v]) => `${k}=${v}`);
}

/** The argv of a command: exec form as is, shell form through the SHELL. */
export function commandArgv(command: DockerfileCommand, shell: readonly string[]): string[] {
  return command.form === 'exec' ? [...command.argv] : [...shell, command.script];
}

/** WORKDIR `p` from `base`: absolute, normalised, `..` stopping at `/`. */
function joinWorkdir(base: string, p: string): string {
  return posix.resolve('/', base, p);
}

const NS_PER_MS = 1_000_000;

/**
 * Applies one metadata step (or WORKDIR/USER, which also steer later RUNs) to a runtime config.
 * Returns false for steps that are not metadata (RUN, COPY, ADD, ARG …).
 */
export function applyConfigStep(
  config: BuildRuntimeConfig,
  step: DockerfileStep,
  stage: { cmdSet: boolean } = { cmdSet: false },
): boolean {
  switch (step.keyword) {
    case 'ENV': {
      const env = envMap(config.Env);
      for (const p of step.env) env.set(p.key, p.value);
      config.Env = envList(env);
      return true;
    }
    case 'WORKDIR':
      config.WorkingDir = joinWorkdir(config.WorkingDir || '/', step.path);
      return true;
    case 'USER':
      config.User = step.group === undefined ? step.user : `${step.user}:${step.group}`;
      return true;
    case 'LABEL':
      config.Labels = { ...(config.Labels ?? {}) };
      for (const l of step.labels) config.Labels[l.key] = l.value;
      return true;
    case 'MAINTAINER':
      return true;
    case 'EXPOSE':
      config.ExposedPorts = { ...(config.ExposedPorts ?? {}) };
      for (const p of step.ports) {
        const range =
          p.endPort === undefined ? [p.port] : Array.from({ length: p.endPort - p.port + 1 }, (_, i) => p.port + i);
        for (const n of range) config.ExposedPorts[`${n}/${p.protocol}`] = {};
      }
      return true;
    case 'CMD':
      config.Cmd = commandArgv(step.command, step.scope.shell);
      stage.cmdSet = true;
      return true;
    case 'ENTRYPOINT':
      config.Entrypoint = commandArgv(step.command, step.scope.shell);
      // docker: an ENTRYPOINT drops the CMD inherited from the base image (not one this stage set).
      if (!stage.cmdSet) config.Cmd = null;
      return true;
    case 'VOLUME':
      config.Volumes = { ...(config.Volumes ?? {}) };
      for (const v of step.paths) config.Volumes[v] = {};
      return true;
    case 'STOPSIGNAL':
      config.StopSignal = step.signal;
      return true;
    case 'HEALTHCHECK':
      if (step.command === undefined) config.Healthcheck = { Test: ['NONE'] };
      else {
        const test = step.command.form === 'exec' ? ['CMD', ...step.command.argv] : ['CMD-SHELL', step.command.script];
        const hc: NonNullable<BuildRuntimeConfig['Healthcheck']> = { Test: test };
        if (step.intervalMs !== undefined) hc.Interval = step.intervalMs * NS_PER_MS;
        if (step.timeoutMs !== undefined) hc.Timeout = step.timeoutMs * NS_PER_MS;
        if (step.startPeriodMs !== undefined) hc.StartPeriod = step.startPeriodMs * NS_PER_MS;
        if (step.startIntervalMs !== undefined) hc.StartInterval = step.startIntervalMs * NS_PER_MS;
        if (step.retries !== undefined) hc.Retries = step.retries;
        config.Healthcheck = hc;
      }
      return true;
    case 'SHELL':
      config.Shell = [...step.shell];
      return true;
    case 'ONBUILD':
      config.OnBuild = [...(config.OnBuild ?? []), step.trigger];
      return true;
    default:
      return false;
  }
}

/** The history line of a step, in BuildKit's words. */
export function historyCreatedBy(step: DockerfileStep, argv?: readonly string[]): string {
  switch (step.keyword) {
    case 'RUN':
      return `RUN ${(argv ?? []).join(' ')} # buildkit`;
    case 'COPY':
    case 'ADD':
      return `${step.keyword} ${step.sources.map((s) => (s.kind === 'path' ? s.path : `<<${s.name}`)).join(' ')} ${step.destination} # buildkit`;
    case 'WORKDIR':
      return `WORKDIR ${step.path}`;
    default:
      return step.original.replace(/\s+/g, ' ').trim();
  }
}

/** The time every build writes as `created` unless SOURCE_DATE_EPOCH says otherwise. */
export function epochTimestamp(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');
}
