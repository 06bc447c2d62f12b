import { createInterface } from 'node:readline/promises';
import { parseSizeBytes } from '@hypr/api/units';
import { humanSize } from '@hypr/api/units';
import { Flags } from '@oclif/core';
import { CliError, HyprCommand } from '../../hypr-command.js';

export default class BuilderPrune extends HyprCommand {
  static override summary = 'Remove build cache';
  static override description =
    'Without -a, only the cache entries whose layers no image uses (the ones that take space of their own).';
  static override usage = 'builder prune [OPTIONS]';
  static override enableJsonFlag = true;
  static override flags = {
    all: Flags.boolean({ char: 'a', summary: 'Remove all unused build cache, not just dangling ones' }),
    force: Flags.boolean({ char: 'f', summary: 'Do not prompt for confirmation' }),
    filter: Flags.string({ summary: 'Provide filter values (until=24h)', multiple: true, multipleNonGreedy: true }),
    'keep-storage': Flags.string({ summary: 'Amount of disk space to keep for cache (e.g. 512MB)' }),
  };

  async run(): Promise<{ entries: number; deleted: string[]; reclaimedBytes: number }> {
    const { flags } = await this.parseArgs<
      { all: boolean; force: boolean; filter?: string[]; 'keep-storage'?: string },
      Record<string, never>
    >(BuilderPrune);
    let keep = 0;
    if (flags['keep-storage'] !== undefined) {
      const n = parseSizeBytes(flags['keep-storage']);
      if (n === undefined)
        throw new CliError(
          `invalid value "${flags['keep-storage']}" for flag --keep-storage`,
          1,
          'write a size such as 512MB or 2g',
        );
      keep = n;
    }
    if (!flags.force) {
      process.stderr.write(`WARNING! This will remove ${flags.all ? 'all' : 'all dangling'} build cache.\n`);
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      const answer = await rl.question('Are you sure you want to continue? [y/N] ').catch(() => '');
      rl.close();
      if (!/^y(es)?$/i.test(answer.trim())) return { entries: 0, deleted: [], reclaimedBytes: 0 };
    }
    const r = await this.client.images.pruneBuildCache({
      all: flags.all,
      filters: flags.filter ?? [],
      keepStorageBytes: BigInt(keep),
    });
    if (!this.jsonEnabled()) {
      if (r.deleted.length) this.out(['Deleted build cache objects:', ...r.deleted, ''].join('\n'));
      this.out(`Total reclaimed space: ${humanSize(Number(r.reclaimedBytes))}`);
    }
    return { entries: r.entries, deleted: r.deleted, reclaimedBytes: Number(r.reclaimedBytes) };
  }
}
