import { Flags } from '@oclif/core';
import { familiarName } from '../format/names.js';
import { CliError, HyprCommand, forEachArg } from '../hypr-command.js';

export default class Rmi extends HyprCommand {
  static override summary = 'Remove one or more images';
  static override usage = 'rmi [OPTIONS] IMAGE [IMAGE...]';
  static override strict = false;
  static override flags = {
    force: Flags.boolean({ char: 'f', summary: 'Force removal of the image' }),
    'no-prune': Flags.boolean({ summary: 'Accepted for compatibility' }),
  };

  async run(): Promise<{ untagged: string[]; deleted: string[] }[]> {
    const { flags, argv } = await this.parseArgs<{ force: boolean }, Record<string, never>>(Rmi);
    if (!argv.length) throw new CliError('"hypr rmi" requires at least 1 argument.', 1);
    const { results, failed } = await forEachArg(this, argv, async (ref) => {
      const r = await this.client.images.remove({ ref, force: flags.force });
      for (const u of r.untagged) this.out(`Untagged: ${familiarName(u)}`);
      for (const d of r.deleted) this.out(`Deleted: ${d}`);
      return { untagged: r.untagged, deleted: r.deleted };
    });
    if (failed) this.exit(1);
    return results;
  }
}
