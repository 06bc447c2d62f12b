// The flags `hypr run` and `hypr create` share, and their translation to a ContainerSpec.
import { create } from '@bufbuild/protobuf';
import { type ContainerSpec, ContainerSpecSchema } from '@hypr/api';
import { Flags } from '@oclif/core';
import { containerSpecInit } from './container-spec.js';

export { forFlag, memoryBytes, parseCpus } from './container-spec.js';

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

/** The ContainerSpec for `hypr run/create [flags] IMAGE [COMMAND] [ARG...]`. */
export function toContainerSpec(
  f: Record<string, unknown>,
  rest: readonly string[],
): { spec: ContainerSpec; name: string } {
  const { spec, name } = containerSpecInit(f, rest);
  return { spec: create(ContainerSpecSchema, spec), name };
}
