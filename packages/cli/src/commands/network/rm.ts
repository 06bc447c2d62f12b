import { CliError, HyprCommand, forEachArg } from '../../hypr-command.js';

export default class NetworkRm extends HyprCommand {
  static override summary = 'Remove one or more networks';
  static override usage = 'network rm NETWORK [NETWORK...]';
  static override aliases = ['network:remove'];
  static override strict = false;

  async run(): Promise<string[]> {
    const { argv } = await this.parseArgs<Record<string, never>, Record<string, never>>(NetworkRm);
    if (!argv.length) throw new CliError('"hypr network rm" requires at least 1 argument.', 1);
    const { results, failed } = await forEachArg(this, argv, async (name) => {
      await this.client.networks.remove({ id: name });
      this.out(name);
      return name;
    });
    if (failed) this.exit(1);
    return results;
  }
}
