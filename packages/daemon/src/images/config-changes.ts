/**
 * `-c/--change` of docker commit and docker import: Dockerfile instructions applied to an image's
 * runtime config. Parsed by core's Dockerfile parser, so quoting, exec and shell forms and error
 * messages are those of a Dockerfile.
 */
import { type DockerfileCommand, HyprError, type ImageRuntimeConfig, parseDockerfile } from '@hypr/core';

/** What docker accepts in --change. */
const ALLOWED = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'USER', 'VOLUME', 'WORKDIR', 'STOPSIGNAL'];

function argv(c: DockerfileCommand, shell: readonly string[]): string[] {
  return c.form === 'exec' ? [...c.argv] : [...shell, c.script];
}

/** Applies each change in order to a copy of `base`; a change that is not allowed names itself. */
export function applyConfigChanges(base: ImageRuntimeConfig, changes: readonly string[]): ImageRuntimeConfig {
  const config: ImageRuntimeConfig & { OnBuild?: string[] } = structuredClone(base);
  for (const change of changes) {
    const keyword = change.trim().split(/\s+/, 1)[0]?.toUpperCase() ?? '';
    if (!ALLOWED.includes(keyword))
      throw new HyprError(
        'INVALID_ARGUMENT',
        `--change "${change}": ${keyword || 'an empty instruction'} is not supported`,
        `use one of ${ALLOWED.join(', ')}`,
      );
    const step = parseDockerfile(`FROM scratch\n${change}`, { file: '--change' }).stages[0]?.steps[0];
    if (!step) throw new HyprError('INVALID_ARGUMENT', `--change "${change}" is not an instruction`);
    const shell = config.Shell ?? ['/bin/sh', '-c'];
    switch (step.keyword) {
      case 'CMD':
        config.Cmd = argv(step.command, shell);
        break;
      case 'ENTRYPOINT':
        config.Entrypoint = argv(step.command, shell);
        break;
      case 'ENV': {
        const env = new Map((config.Env ?? []).map((e) => [e.split('=', 1)[0], e] as const));
        for (const p of step.env) env.set(p.key, `${p.key}=${p.value}`);
        config.Env = [...env.values()];
        break;
      }
      case 'EXPOSE':
        config.ExposedPorts = { ...(config.ExposedPorts ?? {}) };
        for (const p of step.ports)
          for (let n = p.port; n <= (p.endPort ?? p.port); n++) config.ExposedPorts[`${n}/${p.protocol}`] = {};
        break;
      case 'LABEL':
        config.Labels = { ...(config.Labels ?? {}) };
        for (const l of step.labels) config.Labels[l.key] = l.value;
        break;
      case 'ONBUILD':
        config.OnBuild = [...(config.OnBuild ?? []), step.trigger];
        break;
      case 'USER':
        config.User = step.group === undefined ? step.user : `${step.user}:${step.group}`;
        break;
      case 'VOLUME':
        config.Volumes = { ...(config.Volumes ?? {}) };
        for (const v of step.paths) config.Volumes[v] = {};
        break;
      case 'WORKDIR':
        config.WorkingDir = step.path.startsWith('/') ? step.path : `${config.WorkingDir || '/'}/${step.path}`;
        break;
      case 'STOPSIGNAL':
        config.StopSignal = step.signal;
        break;
    }
  }
  return config;
}
