// The flags `hypr run` and `hypr create` share, and their translation to a ContainerSpec.
import { availableParallelism } from 'node:os';
import { create } from '@bufbuild/protobuf';
import { type ContainerSpec, ContainerSpecSchema } from '@hypr/api';
import { MAX_SIZE_BYTES } from '@hypr/api/units';
import { Flags } from '@oclif/core';
import {
  parseDuration,
  parseLabels,
  parseMemory,
  parseRestartPolicy,
  readEnvFiles,
  resolveEnv,
} from './docker-args.js';
import { CliError } from './hypr-command.js';

const many = { multiple: true, multipleNonGreedy: true } as const;

export const createFlags = {
  name: Flags.string({ summary: 'Assign a name to the container' }),
  env: Flags.string({ char: 'e', summary: 'Set environment variables', ...many }),
  'env-file': Flags.string({ summary: 'Read in a file of environment variables', ...many }),
  publish: Flags.string({ char: 'p', summary: "Publish a container's port(s) to the host", ...many }),
  'publish-all': Flags.boolean({ char: 'P', summary: 'Publish all exposed ports to random ports' }),
  volume: Flags.string({ char: 'v', summary: 'Bind mount a volume', ...many }),
  mount: Flags.string({ summary: 'Attach a filesystem mount to the container', ...many }),
  tmpfs: Flags.string({ summary: 'Mount a tmpfs directory', ...many }),
  'volumes-from': Flags.string({ summary: 'Mount volumes from the specified container(s)', ...many }),
  workdir: Flags.string({ char: 'w', summary: 'Working directory inside the container' }),
  user: Flags.string({ char: 'u', summary: 'Username or UID (format: <name|uid>[:<group|gid>])' }),
  entrypoint: Flags.string({ summary: 'Overwrite the default ENTRYPOINT of the image' }),
  cpus: Flags.string({ summary: 'Number of CPUs (vCPUs of the VM, rounded up; default 1)' }),
  memory: Flags.string({ char: 'm', summary: 'Memory limit (the VM memory; default 256m)' }),
  restart: Flags.string({ summary: 'Restart policy to apply when a container exits', default: 'no' }),
  label: Flags.string({ char: 'l', summary: 'Set meta data on a container', ...many }),
  'label-file': Flags.string({ summary: 'Read in a line delimited file of labels', ...many }),
  hostname: Flags.string({ char: 'h', summary: 'Container host name' }),
  interactive: Flags.boolean({ char: 'i', summary: 'Keep STDIN open even if not attached' }),
  tty: Flags.boolean({ char: 't', summary: 'Allocate a pseudo-TTY' }),
  rm: Flags.boolean({ summary: 'Automatically remove the container when it exits' }),
  'stop-signal': Flags.string({ summary: 'Signal to stop the container' }),
  'stop-timeout': Flags.integer({ summary: 'Timeout (in seconds) to stop a container' }),
  'health-cmd': Flags.string({ summary: 'Command to run to check health' }),
  'health-interval': Flags.string({ summary: 'Time between running the check (ms|s|m|h)' }),
  'health-timeout': Flags.string({ summary: 'Maximum time to allow one check to run (ms|s|m|h)' }),
  'health-retries': Flags.integer({ summary: 'Consecutive failures needed to report unhealthy' }),
  'health-start-period': Flags.string({ summary: 'Start period for the container to initialize' }),
  'no-healthcheck': Flags.boolean({ summary: 'Disable any container-specified HEALTHCHECK' }),
  pull: Flags.string({
    summary: 'Pull image before running',
    options: ['always', 'missing', 'never'],
    default: 'missing',
  }),
  platform: Flags.string({ summary: 'Set platform if server is multi-platform capable' }),
  network: Flags.string({ summary: 'Connect a container to a network ("bridge", "none" or a network name)' }),
  'network-alias': Flags.string({ summary: 'Add network-scoped alias for the container', ...many }),
  ip: Flags.string({ summary: 'IPv4 address (e.g., 172.30.100.104)' }),
  init: Flags.boolean({ summary: 'Accepted for compatibility: Kestrel is always the init' }),
  'read-only': Flags.boolean({ summary: 'Accepted for compatibility' }),
  privileged: Flags.boolean({ summary: 'Accepted for compatibility: every container has its own kernel' }),
};

export type CreateFlags = {
  [K in keyof typeof createFlags]: (typeof createFlags)[K] extends { multiple: true } ? string[] | undefined : unknown;
} & Record<string, unknown>;

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

/** The ContainerSpec for `hypr run/create [flags] IMAGE [COMMAND] [ARG...]`. */
export function toContainerSpec(
  f: Record<string, unknown>,
  rest: readonly string[],
): { spec: ContainerSpec; name: string } {
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
  const spec = create(ContainerSpecSchema, {
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
  });
  return { spec, name: (f.name as string | undefined) ?? '' };
}
