import { Args, Flags } from '@oclif/core';
import { HyprCommand } from '../../hypr-command.js';

export default class NetworkConnect extends HyprCommand {
  static override summary = 'Connect a container to a network (it joins at its next start)';
  static override usage = 'network connect [OPTIONS] NETWORK CONTAINER';
  static override args = {
    network: Args.string({ required: true }),
    container: Args.string({ required: true }),
  };
  static override flags = {
    alias: Flags.string({
      summary: 'Add network-scoped alias for the container',
      multiple: true,
      multipleNonGreedy: true,
    }),
    ip: Flags.string({ summary: 'IPv4 address (e.g., 172.30.100.104)' }),
  };

  async run(): Promise<void> {
    const { flags, args } = await this.parseArgs<
      { alias?: string[]; ip?: string },
      { network: string; container: string }
    >(NetworkConnect);
    await this.client.networks.connect({
      network: args.network,
      container: args.container,
      aliases: flags.alias ?? [],
      ip: flags.ip ?? '',
    });
  }
}
