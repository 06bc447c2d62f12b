import { Flags } from '@oclif/core';
import { ComposeCommand, type ComposeGlobalFlags, composeFlags } from '../../compose-command.js';
import { CliError } from '../../hypr-command.js';

export default class ComposeExec extends ComposeCommand {
  static override summary = 'Execute a command in a running container';
  static override usage = 'compose exec [OPTIONS] SERVICE COMMAND [ARGS...]';
  static override strict = false;
  static override flags = {
    ...composeFlags,
    detach: Flags.boolean({ char: 'd', summary: 'Detached mode: Run command in the background' }),
    'no-TTY': Flags.boolean({ char: 'T', summary: 'Disable pseudo-TTY allocation. By default a TTY is allocated' }),
    env: Flags.string({ char: 'e', multiple: true, multipleNonGreedy: true, summary: 'Set environment variables' }),
    user: Flags.string({ char: 'u', summary: 'Run the command as this user' }),
    workdir: Flags.string({ char: 'w', summary: 'Path to workdir directory for this command' }),
    index: Flags.integer({ summary: 'Index of the container if service has multiple replicas', default: 1 }),
  };

  async run(): Promise<void> {
    const { flags, rest } = await this.parseDocker<
      ComposeGlobalFlags & {
        detach: boolean;
        'no-TTY': boolean;
        env?: string[];
        user?: string;
        workdir?: string;
        index: number;
      }
    >(ComposeExec);
    const [service, ...command] = rest;
    if (!service || !command.length) throw new CliError('"hypr compose exec" requires at least 2 arguments.', 1);
    const { name } = this.projectOf(flags);
    const { containers } = await this.client.stacks.containers({ name, services: [service], all: false });
    const c = containers.find((x) => x.number === flags.index);
    if (!c) throw new CliError(`service "${service}" is not running`, 1);
    const args: string[] = [];
    if (flags.detach) args.push('-d');
    else {
      args.push('-i');
      if (!flags['no-TTY'] && process.stdin.isTTY && process.stdout.isTTY) args.push('-t');
    }
    for (const e of flags.env ?? []) args.push('-e', e);
    if (flags.user) args.push('-u', flags.user);
    if (flags.workdir) args.push('-w', flags.workdir);
    await this.config.runCommand('exec', [...args, c.name, ...command]);
  }
}
