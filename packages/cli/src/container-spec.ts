// The flags `hypr run` and `hypr create` share, translated into a ContainerSpec: as a plain object, so
// that run-flags.ts gives it to protobuf-es's create() and the fast path of `hypr run` (fast-run.ts) sends
// it as JSON without loading protobuf or oclif. CREATE_FLAG_SHAPES is the shape of run-flags.ts's oclif
// flags (fast-run.test.ts holds the two together).
import { availableParallelism } from 'node:os';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { ContainerSpecSchema } from '@hypr/api';
import { MAX_SIZE_BYTES } from '@hypr/api/units';
import { CliError } from './cli-error.js';
import {
  parseDuration,
  parseLabels,
  parseMemory,
  parseRestartPolicy,
  readEnvFiles,
  resolveEnv,
} from './docker-args.js';

export type SpecInit = MessageInitShape<typeof ContainerSpecSchema>;

/** A flag as the fast path parses it: takes a value ('option') or not, its letter, repeatable, its default. */
export interface FastFlagShape {
  type: 'boolean' | 'option';
  char?: string;
  multiple?: boolean;
  integer?: boolean;
  allowNo?: boolean;
  options?: readonly string[];
  default?: string | boolean;
}

const opt = (char?: string): FastFlagShape => ({ type: 'option', ...(char ? { char } : {}) });
const many = (char?: string): FastFlagShape => ({ ...opt(char), multiple: true });
const bool = (char?: string): FastFlagShape => ({ type: 'boolean', ...(char ? { char } : {}) });
const int: FastFlagShape = { type: 'option', integer: true };

export const CREATE_FLAG_SHAPES: Record<string, FastFlagShape> = {
  name: opt(),
  env: many('e'),
  'env-file': many(),
  publish: many('p'),
  'publish-all': bool('P'),
  volume: many('v'),
  mount: many(),
  tmpfs: many(),
  'volumes-from': many(),
  workdir: opt('w'),
  user: opt('u'),
  entrypoint: opt(),
  cpus: opt(),
  memory: opt('m'),
  restart: { type: 'option', default: 'no' },
  label: many('l'),
  'label-file': many(),
  hostname: opt('h'),
  interactive: bool('i'),
  tty: bool('t'),
  rm: bool(),
  'stop-signal': opt(),
  'stop-timeout': int,
  'health-cmd': opt(),
  'health-interval': opt(),
  'health-timeout': opt(),
  'health-retries': int,
  'health-start-period': opt(),
  'no-healthcheck': bool(),
  pull: { type: 'option', options: ['always', 'missing', 'never'], default: 'missing' },
  platform: opt(),
  network: opt(),
  'network-alias': many(),
  ip: opt(),
  init: bool(),
  'read-only': bool(),
  privileged: bool(),
};

function flagError(flag: string, value: unknown, reason: string, hint?: string): CliError {
  return new CliError(`invalid argument "${value}" for "${flag}" flag: ${reason}`, 125, hint, 'CLI_FLAG_INVALID');
}

/** Runs a docker-args parser for one flag; its plain Error becomes a CliError naming the flag. */
export function forFlag<T>(flag: string, value: unknown, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw flagError(flag, value, (e as Error).message);
  }
}

/** Reads --env-file/--label-file files; a missing or unreadable file is named as docker names it. */
function readFiles(flag: string, paths: readonly string[], env?: NodeJS.ProcessEnv): string[] {
  try {
    return readEnvFiles(paths, env);
  } catch (e) {
    const missing = /no such file|is a directory|permission denied/.test((e as Error).message);
    throw new CliError(
      (e as Error).message,
      125,
      `${flag} names a file of KEY=VALUE lines`,
      missing ? 'CLI_FILE_NOT_FOUND' : 'CLI_FLAG_INVALID',
    );
  }
}

function durationMs(text: unknown, flag: string): bigint {
  if (typeof text !== 'string') return 0n;
  return BigInt(Math.round(forFlag(`--${flag}`, text, () => parseDuration(text))));
}

/** `-m`: RAMInBytes, at least 32 MiB (room for the guest kernel), at most int64. 0n when unset. */
export function memoryBytes(value: unknown): bigint {
  if (value === undefined || value === '') return 0n;
  const flag = '-m, --memory';
  const bytes = forFlag(flag, value, () => parseMemory(String(value)));
  if (bytes >= MAX_SIZE_BYTES)
    throw flagError(flag, value, 'the size does not fit in 64 bits', 'write a size such as 512m or 2g');
  if (bytes < 32 * 1024 * 1024)
    throw new CliError(
      'Minimum memory limit allowed is 32MB (a VM needs room for its kernel)',
      125,
      undefined,
      'CLI_FLAG_INVALID',
    );
  return BigInt(bytes);
}

/** `--cpus`: a decimal number of CPUs within what the host has (docker's NanoCPUs range). 0 when unset. */
export function parseCpus(value: unknown, hostCpus = availableParallelism()): number {
  if (value === undefined) return 0;
  const text = String(value).trim();
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(text))
    throw flagError('--cpus', value, `failed to parse ${text} as a rational number`);
  const cpus = Number(text);
  if (cpus !== 0 && (cpus < 0.01 || cpus > hostCpus))
    throw flagError(
      '--cpus',
      value,
      `range of CPUs is from 0.01 to ${hostCpus.toFixed(2)}, as there are only ${hostCpus} CPUs available`,
    );
  return cpus;
}

/** The ContainerSpec for `hypr run/create [flags] IMAGE [COMMAND] [ARG...]`, as protobuf-es's create() takes it. */
export function containerSpecInit(
  f: Record<string, unknown>,
  rest: readonly string[],
): { spec: SpecInit; name: string } {
  const [image, ...command] = rest;
  if (!image) throw new CliError('"hypr run" requires at least 1 argument.', 125, undefined, 'CLI_ARGUMENT_MISSING');
  const strs = (k: string) => (f[k] as string[] | undefined) ?? [];
  const env = [
    ...readFiles('--env-file', strs('env-file')),
    ...strs('env').flatMap((e) => forFlag('-e, --env', e, () => resolveEnv([e]))),
  ];
  const labels = parseLabels([...readFiles('--label-file', strs('label-file'), {}), ...strs('label')]);
  const memory = memoryBytes(f.memory);
  const restart = forFlag('--restart', f.restart, () => parseRestartPolicy(String(f.restart ?? 'no')));
  const cpus = parseCpus(f.cpus);
  if (f.rm && restart.name !== 'no')
    throw new CliError('Conflicting options: --restart and --rm', 125, undefined, 'CLI_FLAG_CONFLICT');
  const spec: SpecInit = {
    image,
    command,
    entrypoint: f.entrypoint as string | undefined,
    env,
    workdir: f.workdir as string | undefined,
    user: f.user as string | undefined,
    hostname: (f.hostname as string | undefined) ?? '',
    labels,
    cpus,
    memoryBytes: memory,
    ports: strs('publish'),
    networking: {
      network: (f.network as string | undefined) ?? '',
      aliases: strs('network-alias'),
      ip: (f.ip as string | undefined) ?? '',
      publishAll: Boolean(f['publish-all']),
    },
    volumes: strs('volume'),
    mounts: strs('mount'),
    tmpfs: strs('tmpfs'),
    volumesFrom: strs('volumes-from'),
    restartPolicy: restart,
    autoRemove: Boolean(f.rm),
    tty: Boolean(f.tty),
    openStdin: Boolean(f.interactive),
    stopSignal: f['stop-signal'] as string | undefined,
    stopTimeoutSeconds: f['stop-timeout'] as number | undefined,
    noHealthcheck: Boolean(f['no-healthcheck']),
    pull: String(f.pull ?? 'missing'),
    healthcheck: f['health-cmd']
      ? {
          test: ['CMD-SHELL', String(f['health-cmd'])],
          intervalMs: durationMs(f['health-interval'], 'health-interval'),
          timeoutMs: durationMs(f['health-timeout'], 'health-timeout'),
          startPeriodMs: durationMs(f['health-start-period'], 'health-start-period'),
          retries: (f['health-retries'] as number | undefined) ?? 0,
        }
      : undefined,
  };
  return { spec, name: (f.name as string | undefined) ?? '' };
}
