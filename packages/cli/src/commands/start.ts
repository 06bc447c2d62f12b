import { Flags } from '@oclif/core';
import { CliError, HyprCommand, forEachArg } from '../hypr-command.js';
import { checkTty } from '../stdio-session.js';
import { attachAndStart } from './run.js';

export default class Start extends HyprCommand {
  static override summary = 'Start one or more stopped containers';
  static override usage = 'start [OPTIONS] CONTAINER [CONTAINER...]';
  static override strict = false;
  static override flags = {
    attach: Flags.boolean({ char: 'a', summary: 'Attach STDOUT/STDERR and forward signals' }),
    interactive: Flags.boolean({ char: 'i', summary: "Attach container's STDIN" }),
  };

  async run(): Promise<string[]> {
    const { flags, argv } = await this.parseArgs<{ attach: boolean; interactive: boolean }, Record<string, never>>(
      Start,
    );
    if (!argv.length) throw new CliError('"hypr start" requires at least 1 argument.', 125);
    if (flags.attach) {
      if (argv.length > 1) throw new CliError('you cannot start and attach multiple containers at once', 1);
      const info = JSON.parse((await this.client.containers.inspect({ id: argv[0] })).json);
      const tty = Boolean(info.Config.Tty);
      const interactive = flags.interactive && Boolean(info.Config.OpenStdin);
      checkTty(interactive, tty);
      return this.exit(await attachAndStart(this, argv[0], { sigProxy: !tty, interactive, tty })) as never;
    }
    const { results, failed } = await forEachArg(this, argv, async (id) => {
      await this.client.containers.start({ id });
      this.out(id);
      return id;
    });
    if (failed) this.exit(1);
    return results;
  }
}
