import { Code, ConnectError } from '@connectrpc/connect';
import { type ContainerSpec, Stream } from '@hypr/api';
import { Flags } from '@oclif/core';
import { CliError, HyprCommand, hyprCode } from '../hypr-command.js';
import { pullWithProgress } from '../pull.js';
import { createFlags, toContainerSpec } from '../run-flags.js';

export interface RunResult {
  id: string;
  name: string;
  exitCode?: number;
}

/** Creates the container, pulling its image first when it is missing (as docker run/create do). */
export async function createContainer(
  cmd: HyprCommand,
  spec: ContainerSpec,
  name: string,
  platform?: string,
): Promise<{ id: string; name: string }> {
  if (spec.pull === 'always') await pullWithProgress(cmd.client, spec.image, { out: process.stderr, platform });
  try {
    return await cmd.client.containers.create({ spec, name });
  } catch (e) {
    if (!(e instanceof ConnectError && e.code === Code.NotFound && hyprCode(e) === 'IMAGE_NOT_FOUND')) throw e;
    if (spec.pull === 'never') throw new CliError(`No such image: ${spec.image}`, 125);
    process.stderr.write(`Unable to find image '${spec.image}' locally\n`);
    await pullWithProgress(cmd.client, spec.image, { out: process.stderr, platform });
    return cmd.client.containers.create({ spec, name });
  }
}

export default class Run extends HyprCommand {
  static override summary = 'Create and run a new container from an image';
  static override usage = 'run [OPTIONS] IMAGE [COMMAND] [ARG...]';
  static override strict = false;
  static override enableJsonFlag = false;
  static override errorExitCode = 125;
  static override examples = ['hypr run --rm busybox echo hello', 'hypr run -d --name web -e PORT=80 nginx'];
  static override flags = {
    ...createFlags,
    detach: Flags.boolean({ char: 'd', summary: 'Run container in background and print container ID' }),
    'sig-proxy': Flags.boolean({ summary: 'Proxy received signals to the process', default: true, allowNo: true }),
    attach: Flags.string({
      char: 'a',
      summary: 'Attach to STDIN, STDOUT or STDERR (accepted)',
      multiple: true,
      multipleNonGreedy: true,
    }),
    'detach-keys': Flags.string({ summary: 'Accepted for compatibility' }),
  };

  async run(): Promise<RunResult> {
    const { flags, rest } = await this.parseDocker<Record<string, unknown>>(Run);
    const { spec, name } = toContainerSpec(flags, rest);
    if (flags.detach && spec.autoRemove === false && spec.restartPolicy?.name === 'no') {
      /* nothing to check */
    }
    const created = await createContainer(this, spec, name, flags.platform as string | undefined);
    if (flags.detach) {
      await this.client.containers.start({ id: created.id });
      this.out(created.id);
      return { id: created.id, name: created.name };
    }
    const exitCode = await attachAndStart(this, created.id, Boolean(flags['sig-proxy']));
    return this.exit(exitCode) as never;
  }
}

/** Streams the container's output from its start to its exit; returns the exit status for the CLI. */
export async function attachAndStart(cmd: HyprCommand, id: string, sigProxy: boolean, start = true): Promise<number> {
  const abort = new AbortController();
  const forward = (signal: NodeJS.Signals) => {
    cmd.client.containers.kill({ id, signal }).catch(() => {});
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
  if (sigProxy) for (const s of signals) process.on(s, forward);
  try {
    for await (const m of cmd.client.containers.attach({ id, start }, { signal: abort.signal })) {
      if (m.event.case === 'output') {
        const o = m.event.value;
        (o.stream === Stream.STDERR ? process.stderr : process.stdout).write(o.data);
      } else if (m.event.case === 'exit') {
        const { exitCode, error } = m.event.value;
        if (error) process.stderr.write(`hypr: ${error}\n`);
        return exitCode;
      }
    }
    throw new CliError('the attachment ended before the container exited', 125);
  } finally {
    if (sigProxy) for (const s of signals) process.off(s, forward);
  }
}
