import { Args, Flags } from '@oclif/core';
import { HyprCommand } from '../../hypr-command.js';

export default class NetworkDisconnect extends HyprCommand {
  static override summary = 'Disconnect a container that is not running from a network';
  static override usage = 'network disconnect [OPTIONS] NETWORK CONTAINER';
  static override args = {
    network: Args.string({ required: true }),
    container: Args.string({ required: true }),
  };
  static override flags = {
    force: Flags.boolean({ char: 'f', summary: 'Accepted for compatibility' }),
  };

  async run(): Promise<void> {
    const { flags, args } = await this.parseArgs<{ force: boolean }, { network: string; container: string }>(
      NetworkDisconnect,
    );
    await this.client.networks.disconnect({ network: args.network, container: args.container, force: flags.force });
  }
}
