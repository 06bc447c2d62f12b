import { Stream } from '@hypr/api';
import { Flags } from '@oclif/core';
import { resolveEnv } from '../docker-args.js';
import { CliError, HyprCommand } from '../hypr-command.js';

export default class Exec extends HyprCommand {
  static override summary = 'Execute a command in a running container';
  static override usage = 'exec [OPTIONS] CONTAINER COMMAND [ARG...]';
  static override strict = false;
  static override errorExitCode = 126;
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
    async function* requests() {
      yield {
        msg: {
          case: 'start' as const,
          value: {
            id,
            command,
            env: resolveEnv((flags.env as string[] | undefined) ?? []),
            workdir: flags.workdir as string | undefined,
            user: flags.user as string | undefined,
            tty: Boolean(flags.tty),
            stdin: Boolean(flags.interactive),
          },
        },
      };
    }
    for await (const m of this.client.containers.exec(requests())) {
      if (m.msg.case === 'output') {
        const o = m.msg.value;
        (o.stream === Stream.STDERR ? process.stderr : process.stdout).write(o.data);
      } else if (m.msg.case === 'exit') {
        return this.exit(m.msg.value.exitCode) as never;
      }
    }
    return 0;
  }
}
