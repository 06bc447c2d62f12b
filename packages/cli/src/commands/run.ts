import { create } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { type AttachRequest, AttachRequestSchema, type AttachResponse, type ContainerSpec, Stream } from '@hypr/api';
import { Flags } from '@oclif/core';
import { CliError, HyprCommand, hyprCode } from '../hypr-command.js';
import { pullWithProgress } from '../pull.js';
import { createFlags, toContainerSpec } from '../run-flags.js';
import { checkTty, runSession, terminalSize } from '../stdio-session.js';

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
    if (!flags.detach) checkTty(Boolean(flags.interactive), Boolean(flags.tty));
    const created = await createContainer(this, spec, name, flags.platform as string | undefined);
    if (flags.detach) {
      await this.client.containers.start({ id: created.id });
      this.out(created.id);
      return { id: created.id, name: created.name };
    }
    const exitCode = await attachAndStart(this, created.id, {
      sigProxy: Boolean(flags['sig-proxy']),
      interactive: Boolean(flags.interactive),
      tty: Boolean(flags.tty),
    });
    return this.exit(exitCode) as never;
  }
}

/**
 * Attaches to the container (starting it first when asked) and streams its output to its exit;
 * with -i the terminal's stdin goes to the program, with -t in raw mode with its window size.
 * Returns the exit status for the CLI.
 */
export async function attachAndStart(
  cmd: HyprCommand,
  id: string,
  o: { sigProxy: boolean; start?: boolean; interactive?: boolean; tty?: boolean },
): Promise<number> {
  const interactive = Boolean(o.interactive);
  const tty = Boolean(o.tty);
  return runSession<AttachRequest, AttachResponse>({
    input: {
      start: create(AttachRequestSchema, {
        msg: {
          case: 'start',
          value: { id, start: o.start ?? true, stdin: interactive, size: tty ? terminalSize() : undefined },
        },
      }),
      stdin: (b) => create(AttachRequestSchema, { msg: { case: 'stdin', value: b } }),
      resize: (rows, cols) => create(AttachRequestSchema, { msg: { case: 'resize', value: { rows, cols } } }),
      closeStdin: () => create(AttachRequestSchema, { msg: { case: 'closeStdin', value: true } }),
    },
    interactive,
    tty,
    call: (requests) => cmd.client.containers.attach(requests),
    read: (res) =>
      res.event.case === 'output'
        ? { output: { stderr: res.event.value.stream === Stream.STDERR, data: res.event.value.data } }
        : res.event.case === 'exit'
          ? { exit: res.event.value }
          : {},
    onSignal: o.sigProxy
      ? (signal) => {
          cmd.client.containers.kill({ id, signal }).catch(() => {});
        }
      : undefined,
  });
}
