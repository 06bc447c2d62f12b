import { humanSize } from '@hypr/api/units';
import { Flags } from '@oclif/core';
import { HyprCommand } from '../../hypr-command.js';
import { confirm } from '../../prompt.js';

export default class ImagePrune extends HyprCommand {
  static override summary = 'Remove unused images (dangling ones; all without a container with -a)';
  static override usage = 'image prune [OPTIONS]';
  static override enableJsonFlag = true;
  static override flags = {
    all: Flags.boolean({ char: 'a', summary: 'Remove all unused images, not just dangling ones' }),
    force: Flags.boolean({ char: 'f', summary: 'Do not prompt for confirmation' }),
  };

  async run(): Promise<{ deleted: string[]; reclaimedBytes: number }> {
    const { flags } = await this.parseArgs<{ all: boolean; force: boolean }, Record<string, never>>(ImagePrune);
    const warning = flags.all
      ? 'WARNING! This will remove all images without at least one container associated to them.'
      : 'WARNING! This will remove all dangling images.';
    if (!flags.force && !(await confirm(warning))) return { deleted: [], reclaimedBytes: 0 };
    const r = await this.client.images.prune({ all: flags.all });
    if (!this.jsonEnabled()) {
      if (r.deleted.length) this.out(['Deleted Images:', ...r.deleted.map((d) => `deleted: ${d}`), ''].join('\n'));
      this.out(`Total reclaimed space: ${humanSize(Number(r.reclaimedBytes))}`);
    }
    return { deleted: r.deleted, reclaimedBytes: Number(r.reclaimedBytes) };
  }
}
