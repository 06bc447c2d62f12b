import { humanSize } from '@hypr/api/units';
import { Flags } from '@oclif/core';
import { HyprCommand } from '../../hypr-command.js';
import { confirm } from '../../prompt.js';

export default class Prune extends HyprCommand {
  static override summary = 'Remove unused data: stopped containers and dangling images (all unused with -a)';
  static override enableJsonFlag = true;
  static override flags = {
    all: Flags.boolean({ char: 'a', summary: 'Remove all unused images not just dangling ones' }),
    force: Flags.boolean({ char: 'f', summary: 'Do not prompt for confirmation' }),
    volumes: Flags.boolean({ summary: 'Accepted for compatibility' }),
  };

  async run(): Promise<{ containers: string[]; images: string[]; reclaimedBytes: number }> {
    const { flags } = await this.parseArgs<{ all: boolean; force: boolean }, Record<string, never>>(Prune);
    const images = flags.all ? 'all images without at least one container associated to them' : 'all dangling images';
    if (!flags.force && !(await confirm(`WARNING! This will remove:\n  - all stopped containers\n  - ${images}\n`)))
      return { containers: [], images: [], reclaimedBytes: 0 };
    const c = await this.client.containers.prune({});
    const i = await this.client.images.prune({ all: flags.all });
    if (!this.jsonEnabled()) {
      if (c.deleted.length) this.out(['Deleted Containers:', ...c.deleted, ''].join('\n'));
      if (i.deleted.length) this.out(['Deleted Images:', ...i.deleted.map((d) => `deleted: ${d}`), ''].join('\n'));
      this.out(`Total reclaimed space: ${humanSize(Number(i.reclaimedBytes))}`);
    }
    return { containers: c.deleted, images: i.deleted, reclaimedBytes: Number(i.reclaimedBytes) };
  }
}
