import { Flags } from '@oclif/core';
import { CliError, HyprCommand, forEachArg } from '../../hypr-command.js';

export default class VolumeRm extends HyprCommand {
  static override summary = 'Remove one or more volumes';
  static override usage = 'volume rm [OPTIONS] VOLUME [VOLUME...]';
  static override aliases = ['volume:remove'];
  static override strict = false;
  static override flags = {
    force: Flags.boolean({ char: 'f', summary: 'Do not fail when a volume does not exist' }),
  };

  async run(): Promise<string[]> {
    const { flags, argv } = await this.parseArgs<{ force: boolean }, Record<string, never>>(VolumeRm);
    if (!argv.length) throw new CliError('"hypr volume rm" requires at least 1 argument.', 1);
    const { results, failed } = await forEachArg(this, argv, async (name) => {
      await this.client.volumes.remove({ name, force: flags.force });
      this.out(name);
      return name;
    });
    if (failed) this.exit(1);
    return results;
  }
}
