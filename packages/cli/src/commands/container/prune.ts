import { humanSize } from '@hypr/api/units';
import { Flags } from '@oclif/core';
import { HyprCommand } from '../../hypr-command.js';
import { confirm } from '../../prompt.js';

export default class ContainerPrune extends HyprCommand {
  static override summary = 'Remove all stopped containers';
  static override usage = 'container prune [OPTIONS]';
  static override enableJsonFlag = true;
  static override flags = { force: Flags.boolean({ char: 'f', summary: 'Do not prompt for confirmation' }) };

  async run(): Promise<{ deleted: string[] }> {
    const { flags } = await this.parseArgs<{ force: boolean }, Record<string, never>>(ContainerPrune);
    if (!flags.force && !(await confirm('WARNING! This will remove all stopped containers.'))) return { deleted: [] };
    const { deleted } = await this.client.containers.prune({});
    if (!this.jsonEnabled()) {
      if (deleted.length) this.out(['Deleted Containers:', ...deleted, ''].join('\n'));
      // the writable layers are not measured yet
      this.out(`Total reclaimed space: ${humanSize(0)}`);
    }
    return { deleted };
  }
}
