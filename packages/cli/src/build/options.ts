// `hypr build`'s KEY=VALUE flags, as docker reads them.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CliError } from '../hypr-command.js';

/** `--build-arg K=V` and `--build-arg K` (the value from the environment; skipped when unset, as docker). */
export function parseBuildArgs(
  values: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of values) {
    const i = a.indexOf('=');
    if (i === 0) throw new CliError(`invalid argument "${a}" for "--build-arg" flag: no name before =`);
    if (i > 0) out[a.slice(0, i)] = a.slice(i + 1);
    else if (env[a] !== undefined) out[a] = env[a] as string;
  }
  return out;
}

/** `--label K=V` (`K` alone: an empty value). */
export function parseLabels(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of values) {
    const i = l.indexOf('=');
    if (i === 0) throw new CliError(`invalid argument "${l}" for "--label" flag: no name before =`);
    out[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
  }
  return out;
}

/**
 * `--secret id=X,src=PATH` / `id=X,env=VAR` (`type=file|env` accepted; `id=X` alone: the env var X,
 * else the file X). The CLI reads the value: hyprd never opens a path the caller named.
 */
export async function readSecrets(
  values: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): Promise<{ id: string; value: Uint8Array }[]> {
  const out: { id: string; value: Uint8Array }[] = [];
  for (const v of values) {
    const f = new Map<string, string>();
    for (const part of v.split(',')) {
      const eq = part.indexOf('=');
      if (eq < 0)
        throw new CliError(`invalid secret "${v}": ${part} is not KEY=VALUE`, 1, 'write --secret id=NAME,src=FILE');
      f.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1));
    }
    const id = f.get('id');
    if (!id) throw new CliError(`invalid secret "${v}": id is required`, 1, 'write --secret id=NAME,src=FILE');
    const src = f.get('src') ?? f.get('source');
    const envName = f.get('env');
    const type = f.get('type');
    if (type && type !== 'file' && type !== 'env')
      throw new CliError(`invalid secret "${v}": type ${type} is not file or env`);
    if (envName !== undefined || type === 'env') {
      const name = envName ?? src ?? id;
      const value = env[name];
      if (value === undefined) throw new CliError(`secret ${id}: environment variable ${name} is not set`);
      out.push({ id, value: Buffer.from(value) });
      continue;
    }
    if (src === undefined && type !== 'file' && env[id] !== undefined) {
      out.push({ id, value: Buffer.from(env[id] as string) });
      continue;
    }
    const file = resolve(cwd, src ?? id);
    try {
      out.push({ id, value: await readFile(file) });
    } catch (e) {
      throw new CliError(
        `secret ${id}: cannot read ${src ?? id}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
  }
  return out;
}
