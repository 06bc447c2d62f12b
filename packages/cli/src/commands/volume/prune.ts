import { createInterface } from 'node:readline/promises';
import { humanSize } from '@hypr/api/units';
import { Flags } from '@oclif/core';
import { HyprCommand } from '../../hypr-command.js';

export default class VolumePrune extends HyprCommand {
  static override summary = 'Remove unused anonymous volumes (all unused volumes with -a)';
  static override usage = 'volume prune [OPTIONS]';
  static override enableJsonFlag = true;
  static override flags = {
    all: Flags.boolean({ char: 'a', summary: 'Remove all unused volumes, not just anonymous ones' }),
    force: Flags.boolean({ char: 'f', summary: 'Do not prompt for confirmation' }),
    filter: Flags.string({ summary: 'Provide filter values (label=…)', multiple: true, multipleNonGreedy: true }),
  };

  async run(): Promise<{ deleted: string[]; reclaimedBytes: number }> {
    const { flags } = await this.parseArgs<{ all: boolean; force: boolean; filter?: string[] }, Record<string, never>>(
      VolumePrune,
    );
    if (!flags.force) {
      process.stderr.write(
        `WARNING! This will remove ${flags.all ? 'all local volumes' : 'anonymous local volumes'} not used by at least one container.\n`,
      );
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      const answer = await rl.question('Are you sure you want to continue? [y/N] ').catch(() => '');
      rl.close();
      if (!/^y(es)?$/i.test(answer.trim())) return { deleted: [], reclaimedBytes: 0 };
    }
    const r = await this.client.volumes.prune({ all: flags.all, filters: flags.filter ?? [] });
    if (!this.jsonEnabled()) {
      if (r.deleted.length) this.out(['Deleted Volumes:', ...r.deleted, ''].join('\n'));
      this.out(`Total reclaimed space: ${humanSize(Number(r.reclaimedBytes))}`);
    }
    return { deleted: r.deleted, reclaimedBytes: Number(r.reclaimedBytes) };
  }
}
