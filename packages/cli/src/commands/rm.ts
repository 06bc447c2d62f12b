import { Flags } from '@oclif/core';
import { CliError, HyprCommand, forEachArg } from '../hypr-command.js';

export default class Rm extends HyprCommand {
  static override summary = 'Remove one or more containers';
  static override usage = 'rm [OPTIONS] CONTAINER [CONTAINER...]';
  static override strict = false;
  static override flags = {
    force: Flags.boolean({ char: 'f', summary: 'Force the removal of a running container (uses SIGKILL)' }),
    volumes: Flags.boolean({ char: 'v', summary: 'Remove anonymous volumes associated with the container' }),
    link: Flags.boolean({ char: 'l', summary: 'Accepted for compatibility' }),
  };

  async run(): Promise<string[]> {
    const { flags, argv } = await this.parseArgs<{ force: boolean; volumes: boolean }, Record<string, never>>(Rm);
    if (!argv.length) throw new CliError('"hypr rm" requires at least 1 argument.', 1);
    const { results, failed } = await forEachArg(this, argv, async (id) => {
      await this.client.containers.remove({ id, force: flags.force, volumes: flags.volumes });
      this.out(id);
      return id;
    });
    if (failed) this.exit(1);
    return results;
  }
}
