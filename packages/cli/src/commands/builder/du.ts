import { humanAgo, humanSize } from '@hypr/api/units';
import { Flags } from '@oclif/core';
import { HyprCommand } from '../../hypr-command.js';

interface Entry {
  id: string;
  layer: string;
  reclaimable: boolean;
  sizeBytes: number;
  lastUsedAt: number;
}

export default class BuilderDu extends HyprCommand {
  static override summary = 'Show build cache disk usage';
  static override usage = 'builder du [OPTIONS]';
  static override enableJsonFlag = true;
  static override flags = {
    verbose: Flags.boolean({ summary: 'Show the layer of each entry' }),
  };

  async run(): Promise<{ entries: Entry[]; totalBytes: number; reclaimableBytes: number }> {
    const { flags } = await this.parseArgs<{ verbose: boolean }, Record<string, never>>(BuilderDu);
    const r = await this.client.images.buildCacheUsage({});
    const entries: Entry[] = r.entries.map((e) => ({
      id: e.key.replace(/^sha256:/, '').slice(0, 25),
      layer: e.layer,
      reclaimable: !e.shared,
      sizeBytes: Number(e.sizeBytes),
      lastUsedAt: Number(e.lastUsedAt),
    }));
    const total = Number(r.totalBytes);
    const reclaimable = Number(r.reclaimableBytes);
    if (!this.jsonEnabled()) {
      const rows = [['ID', 'RECLAIMABLE', 'SIZE', 'LAST ACCESSED', ...(flags.verbose ? ['LAYER'] : [])]];
      for (const e of entries)
        rows.push([
          e.id,
          String(e.reclaimable),
          humanSize(e.sizeBytes),
          humanAgo(e.lastUsedAt),
          ...(flags.verbose ? [e.layer || '-'] : []),
        ]);
      const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
      if (entries.length)
        for (const row of rows)
          this.out(
            row
              .map((c, i) => c.padEnd(widths[i] + 3))
              .join('')
              .trimEnd(),
          );
      this.out(`Shared:\t\t${humanSize(total - reclaimable)}`);
      this.out(`Private:\t${humanSize(reclaimable)}`);
      this.out(`Reclaimable:\t${humanSize(reclaimable)}`);
      this.out(`Total:\t\t${humanSize(total)}`);
    }
    return { entries, totalBytes: total, reclaimableBytes: reclaimable };
  }
}
