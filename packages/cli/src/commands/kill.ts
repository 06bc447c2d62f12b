import { Flags } from '@oclif/core';
import { CliError, HyprCommand, forEachArg } from '../hypr-command.js';

export default class Kill extends HyprCommand {
  static override summary = 'Kill one or more running containers';
  static override usage = 'kill [OPTIONS] CONTAINER [CONTAINER...]';
  static override strict = false;
  static override flags = {
    signal: Flags.string({ char: 's', summary: 'Signal to send to the container', default: 'KILL' }),
  };

  async run(): Promise<string[]> {
    const { flags, argv } = await this.parseArgs<{ signal: string }, Record<string, never>>(Kill);
    if (!argv.length) throw new CliError('"hypr kill" requires at least 1 argument.', 1);
    const { results, failed } = await forEachArg(this, argv, async (id) => {
      await this.client.containers.kill({ id, signal: flags.signal });
      this.out(id);
      return id;
    });
    if (failed) this.exit(1);
    return results;
  }
}
