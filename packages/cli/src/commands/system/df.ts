import type { DiskUsageResponse } from '@hypr/api';
import { humanAgo, humanSize } from '@hypr/api/units';
import { Flags } from '@oclif/core';
import { shortId, splitRepoTag } from '../../format/names.js';
import { renderColumns } from '../../format/table.js';
import { formatRows } from '../../format/template.js';
import { HyprCommand } from '../../hypr-command.js';

const TITLES = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };

interface SummaryRow {
  Type: string;
  TotalCount: number;
  Active: number;
  Size: string;
  Reclaimable: string;
}

/** `12.3MB (45%)` as docker writes a reclaimable size; no percentage when nothing is counted. */
function reclaimable(bytes: number, total: number, percent = true): string {
  return percent && total > 0 ? `${humanSize(bytes, 4)} (${Math.floor((bytes * 100) / total)}%)` : humanSize(bytes, 4);
}

const sum = (xs: readonly bigint[]) => xs.reduce((a, b) => a + Number(b), 0);

/** The four summary rows of `docker system df`. */
export function summaryRows(du: DiskUsageResponse): SummaryRow[] {
  // Layers shared by several images are counted once: each image's unique bytes, plus the largest shared part.
  const imagesSize =
    sum(du.images.map((i) => i.uniqueSizeBytes)) + Math.max(0, ...du.images.map((i) => Number(i.sharedSizeBytes)));
  const imagesUsed = sum(du.images.filter((i) => i.containers > 0).map((i) => i.uniqueSizeBytes));
  const containersSize = sum(du.containers.map((c) => c.sizeBytes));
  const running = du.containers.filter((c) => c.state === 'running' || c.state === 'paused');
  const volumesSize = sum(du.volumes.map((v) => v.sizeBytes));
  const cacheSize = sum(du.buildCache.map((b) => b.sizeBytes));
  return [
    {
      Type: 'Images',
      TotalCount: du.images.length,
      Active: du.images.filter((i) => i.containers > 0).length,
      Size: humanSize(imagesSize, 4),
      Reclaimable: reclaimable(imagesSize - imagesUsed, imagesSize),
    },
    {
      Type: 'Containers',
      TotalCount: du.containers.length,
      Active: running.length,
      Size: humanSize(containersSize, 4),
      Reclaimable: reclaimable(containersSize - sum(running.map((c) => c.sizeBytes)), containersSize),
    },
    {
      Type: 'Local Volumes',
      TotalCount: du.volumes.length,
      Active: du.volumes.filter((v) => v.links > 0).length,
      Size: humanSize(volumesSize, 4),
      Reclaimable: reclaimable(sum(du.volumes.filter((v) => v.links === 0).map((v) => v.sizeBytes)), volumesSize),
    },
    {
      Type: 'Build Cache',
      TotalCount: du.buildCache.length,
      Active: du.buildCache.filter((b) => b.inUse).length,
      Size: humanSize(cacheSize, 4),
      Reclaimable: reclaimable(sum(du.buildCache.filter((b) => !b.shared).map((b) => b.sizeBytes)), cacheSize, false),
    },
  ];
}

/** The `-v` sections: every image, container, volume and cache entry. */
export function verboseText(du: DiskUsageResponse, now = Date.now()): string {
  const size = (b: bigint) => humanSize(Number(b), 4);
  const images = du.images.flatMap((i) => {
    const tags = i.repoTags.length ? i.repoTags : ['<none>:<none>'];
    return tags.map((t) => {
      const { repository, tag } = splitRepoTag(t);
      return [
        repository,
        tag,
        shortId(i.id),
        humanAgo(Number(i.createdAt), now),
        size(i.sizeBytes),
        size(i.sharedSizeBytes),
        size(i.uniqueSizeBytes),
        String(i.containers),
      ];
    });
  });
  const containers = du.containers.map((c) => [
    shortId(c.id),
    c.image,
    `"${c.command.length > 20 ? `${c.command.slice(0, 19)}…` : c.command}"`,
    String(c.localVolumes),
    size(c.sizeBytes),
    humanAgo(Number(c.createdAt), now),
    c.status,
    c.name,
  ]);
  const volumes = du.volumes.map((v) => [v.name, String(v.links), size(v.sizeBytes)]);
  const cache = du.buildCache.map((b) => [
    shortId(b.id),
    b.type,
    size(b.sizeBytes),
    humanAgo(Number(b.createdAt), now),
    humanAgo(Number(b.lastUsedAt), now),
    b.inUse ? '1' : '0',
    String(b.shared),
  ]);
  return [
    'Images space usage:\n',
    renderColumns([
      ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE', 'CONTAINERS'],
      ...images,
    ]),
    '\nContainers space usage:\n',
    renderColumns([
      ['CONTAINER ID', 'IMAGE', 'COMMAND', 'LOCAL VOLUMES', 'SIZE', 'CREATED', 'STATUS', 'NAMES'],
      ...containers,
    ]),
    '\nLocal Volumes space usage:\n',
    renderColumns([['VOLUME NAME', 'LINKS', 'SIZE'], ...volumes]),
    `\nBuild cache usage: ${humanSize(sum(du.buildCache.map((b) => b.sizeBytes)), 4)}\n`,
    renderColumns([['CACHE ID', 'CACHE TYPE', 'SIZE', 'CREATED', 'LAST USED', 'USAGE', 'SHARED'], ...cache]),
  ].join('\n');
}

export default class Df extends HyprCommand {
  static override summary = 'Show HYPR disk usage';
  static override usage = 'system df [OPTIONS]';
  static override enableJsonFlag = true;
  static override flags = {
    verbose: Flags.boolean({ char: 'v', summary: 'Show detailed information on space usage' }),
    format: Flags.string({ summary: 'Format output using a custom template' }),
  };

  async run(): Promise<SummaryRow[] | DiskUsageResponse> {
    const { flags } = await this.parseArgs<{ verbose: boolean; format?: string }, Record<string, never>>(Df);
    const du = await this.client.system.diskUsage({});
    const rows = summaryRows(du);
    if (this.jsonEnabled()) return flags.verbose ? du : rows;
    if (flags.verbose) this.out(verboseText(du));
    else {
      const format =
        flags.format && flags.format !== 'table'
          ? flags.format
          : 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
      const text = formatRows(format, rows, TITLES);
      if (text) this.out(text);
    }
    return rows;
  }
}
