import { create } from '@bufbuild/protobuf';
import { type ExecRequest, ExecRequestSchema, type ExecResponse, Stream } from '@hypr/api';
import { Flags } from '@oclif/core';
import { resolveEnv } from '../docker-args.js';
import { CliError, HyprCommand } from '../hypr-command.js';
import { checkTty, runSession, terminalSize } from '../stdio-session.js';

export default class Exec extends HyprCommand {
  static override summary = 'Execute a command in a running container';
  static override usage = 'exec [OPTIONS] CONTAINER COMMAND [ARG...]';
  static override strict = false;
  static override flags = {
    detach: Flags.boolean({ char: 'd', summary: 'Detached mode: run command in the background' }),
    interactive: Flags.boolean({ char: 'i', summary: 'Keep STDIN open even if not attached' }),
    tty: Flags.boolean({ char: 't', summary: 'Allocate a pseudo-TTY' }),
    env: Flags.string({ char: 'e', summary: 'Set environment variables', multiple: true, multipleNonGreedy: true }),
    workdir: Flags.string({ char: 'w', summary: 'Working directory inside the container' }),
    user: Flags.string({ char: 'u', summary: 'Username or UID' }),
  };

  async run(): Promise<number> {
    const { flags, rest } = await this.parseDocker<Record<string, unknown>>(Exec);
    const [id, ...command] = rest;
    if (!id || !command.length) throw new CliError('"hypr exec" requires at least 2 arguments.', 125);
    const interactive = Boolean(flags.interactive) && !flags.detach;
    const tty = Boolean(flags.tty);
    checkTty(interactive, tty);
    const start = create(ExecRequestSchema, {
      msg: {
        case: 'start',
        value: {
          id,
          command,
          env: resolveEnv((flags.env as string[] | undefined) ?? []),
          workdir: flags.workdir as string | undefined,
          user: flags.user as string | undefined,
          tty,
          stdin: interactive,
          size: tty ? terminalSize() : undefined,
          detach: Boolean(flags.detach),
        },
      },
    });
    const code = await runSession<ExecRequest, ExecResponse>({
      input: {
        start,
        stdin: (b) => create(ExecRequestSchema, { msg: { case: 'stdin', value: b } }),
        resize: (rows, cols) => create(ExecRequestSchema, { msg: { case: 'resize', value: { rows, cols } } }),
        closeStdin: () => create(ExecRequestSchema, { msg: { case: 'closeStdin', value: true } }),
      },
      interactive,
      tty,
      call: (requests) => this.client.containers.exec(requests),
      read: (res) =>
        res.msg.case === 'output'
          ? { output: { stderr: res.msg.value.stream === Stream.STDERR, data: res.msg.value.data } }
          : res.msg.case === 'exit'
            ? { exit: res.msg.value }
            : {},
    });
    return this.exit(code) as never;
  }
}
