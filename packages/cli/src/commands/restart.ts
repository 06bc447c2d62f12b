import { Flags } from '@oclif/core';
import { CliError, HyprCommand, forEachArg } from '../hypr-command.js';

export default class Restart extends HyprCommand {
  static override summary = 'Restart one or more containers';
  static override usage = 'restart [OPTIONS] CONTAINER [CONTAINER...]';
  static override strict = false;
  static override flags = {
    time: Flags.integer({ char: 't', summary: 'Seconds to wait before killing the container' }),
  };

  async run(): Promise<string[]> {
    const { flags, argv } = await this.parseArgs<{ time?: number }, Record<string, never>>(Restart);
    if (!argv.length) throw new CliError('"hypr restart" requires at least 1 argument.', 1);
    const { results, failed } = await forEachArg(this, argv, async (id) => {
      await this.client.containers.restart({ id, timeoutSeconds: flags.time });
      this.out(id);
      return id;
    });
    if (failed) this.exit(1);
    return results;
  }
}
