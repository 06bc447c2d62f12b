import { HyprError } from '../errors.js';
import type { ImageConfig } from './manifest.js';

/** What to run in a container of an image, after the user's overrides (docker run semantics). */
export interface ImageRunSpec {
  argv: string[];
  /** `K=V`, the image's Env with the user's entries applied over it. */
  env: string[];
  workdir?: string;
  user?: string;
}

export interface ImageRunOverrides {
  /** Arguments after the image name: replace the image's Cmd (Entrypoint stays). */
  command?: readonly string[];
  /** `--entrypoint`: replaces Entrypoint and drops the image's Cmd. */
  entrypoint?: readonly string[];
  env?: readonly string[];
  workdir?: string;
  user?: string;
}

/**
 * Combines an image config with `docker run` overrides: argv is Entrypoint + (command or Cmd),
 * env is the image's Env with the user's over it, workdir and user fall back to the image's.
 */
export function resolveImageRunSpec(config: ImageConfig, o: ImageRunOverrides = {}): ImageRunSpec {
  const c = config.config ?? {};
  const entrypoint = o.entrypoint ? [...o.entrypoint] : (c.Entrypoint ?? []);
  const cmd = o.command?.length ? [...o.command] : o.entrypoint ? [] : (c.Cmd ?? []);
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0) {
    throw new HyprError(
      'IMAGE_NO_COMMAND',
      'the image has no Entrypoint or Cmd, and no command was given',
      'give a command after the image name',
    );
  }
  const env = new Map<string, string>();
  for (const e of [...(c.Env ?? []), ...(o.env ?? [])]) {
    const i = e.indexOf('=');
    env.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
  const workdir = o.workdir || c.WorkingDir || undefined;
  const user = o.user || c.User || undefined;
  return {
    argv,
    env: [...env].map(([k, v]) => `${k}=${v}`),
    ...(workdir ? { workdir } : {}),
    ...(user ? { user } : {}),
  };
}
