import { CliError, HyprCommand, forEachArg } from '../hypr-command.js';

export default class Pause extends HyprCommand {
  static override summary = 'Pause all processes within one or more containers (the whole VM is frozen)';
  static override usage = 'pause CONTAINER [CONTAINER...]';
  static override strict = false;

  async run(): Promise<string[]> {
    const { argv } = await this.parseArgs<Record<string, never>, Record<string, never>>(Pause);
    if (!argv.length)
      throw new CliError('"hypr pause" requires at least 1 argument.', 1, undefined, 'CLI_ARGUMENT_MISSING');
    const { results, failed } = await forEachArg(this, argv, async (id) => {
      await this.client.containers.pause({ id });
      this.out(id);
      return id;
    });
    if (failed) this.exit(1);
    return results;
  }
}
