import { Flags } from '@oclif/core';
import { CliError, HyprCommand, forEachArg } from '../hypr-command.js';

export default class Stop extends HyprCommand {
  static override summary = 'Stop one or more running containers';
  static override usage = 'stop [OPTIONS] CONTAINER [CONTAINER...]';
  static override strict = false;
  static override flags = {
    time: Flags.integer({ char: 't', summary: 'Seconds to wait before killing the container' }),
    signal: Flags.string({ char: 's', summary: 'Signal to send to the container' }),
  };

  async run(): Promise<string[]> {
    const { flags, argv } = await this.parseArgs<{ time?: number; signal?: string }, Record<string, never>>(Stop);
    if (!argv.length) throw new CliError('"hypr stop" requires at least 1 argument.', 1);
    const { results, failed } = await forEachArg(this, argv, async (id) => {
      await this.client.containers.stop({ id, timeoutSeconds: flags.time, signal: flags.signal });
      this.out(id);
      return id;
    });
    if (failed) this.exit(1);
    return results;
  }
}
