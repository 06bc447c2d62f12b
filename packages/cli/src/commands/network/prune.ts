import { Flags } from '@oclif/core';
import { HyprCommand } from '../../hypr-command.js';

export default class NetworkPrune extends HyprCommand {
  static override summary = 'Remove all unused networks';
  static override usage = 'network prune [OPTIONS]';
  static override enableJsonFlag = true;
  static override flags = {
    force: Flags.boolean({ char: 'f', summary: 'Do not prompt for confirmation' }),
    filter: Flags.string({ summary: 'Accepted for compatibility', multiple: true, multipleNonGreedy: true }),
  };

  async run(): Promise<string[]> {
    await this.parseArgs<{ force: boolean }, Record<string, never>>(NetworkPrune);
    const { deleted } = await this.client.networks.prune({});
    if (!this.jsonEnabled() && deleted.length) this.out(`Deleted Networks:\n${deleted.join('\n')}\n`);
    return deleted;
  }
}
