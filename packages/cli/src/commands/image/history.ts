import type { ImageHistoryEntry } from '@hypr/api';
import { goTime, humanAgo, humanSize } from '@hypr/api/units';
import { Args, Flags } from '@oclif/core';
import { renderColumns } from '../../format/table.js';
import { formatRows } from '../../format/template.js';
import { HyprCommand } from '../../hypr-command.js';

const TITLES: Record<string, string> = {
  ID: 'IMAGE',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  CreatedBy: 'CREATED BY',
  Size: 'SIZE',
  Comment: 'COMMENT',
};

function shortId(id: string): string {
  return id.startsWith('sha256:') ? id.slice(7, 19) : id;
}

export default class ImageHistory extends HyprCommand {
  static override summary = 'Show the history of an image';
  static override usage = 'image history [OPTIONS] IMAGE';
  static override aliases = ['history'];
  static override enableJsonFlag = true;
  static override args = { image: Args.string({ required: true }) };
  static override flags = {
    format: Flags.string({ summary: 'Format output using a custom template' }),
    human: Flags.boolean({
      char: 'H',
      summary: 'Print sizes and dates in human readable format',
      default: true,
      allowNo: true,
    }),
    'no-trunc': Flags.boolean({ summary: "Don't truncate output" }),
    quiet: Flags.boolean({ char: 'q', summary: 'Only show image IDs' }),
  };

  async run(): Promise<ImageHistoryEntry[]> {
    const { flags, args } = await this.parseArgs<
      { format?: string; human: boolean; 'no-trunc': boolean; quiet: boolean },
      { image: string }
    >(ImageHistory);
    const { entries } = await this.client.images.history({ ref: args.image });
    if (this.jsonEnabled()) return entries;
    const noTrunc = flags['no-trunc'];
    if (flags.quiet) {
      for (const e of entries) this.out(noTrunc ? e.id : shortId(e.id));
      return entries;
    }
    const rows = entries.map((e) => {
      const created = Number(e.createdAt);
      const by = e.createdBy.replace(/\s+/g, ' ');
      return {
        ID: noTrunc ? e.id : shortId(e.id),
        CreatedSince: created ? (flags.human ? humanAgo(created) : goTime(created)) : 'N/A',
        CreatedAt: created ? goTime(created) : '',
        CreatedBy: noTrunc || by.length <= 45 ? by : `${by.slice(0, 44)}…`,
        Size: flags.human ? humanSize(Number(e.sizeBytes)) : String(e.sizeBytes),
        Comment: e.comment,
      };
    });
    if (flags.format && flags.format !== 'table') {
      const text = formatRows(flags.format, rows, TITLES);
      if (text) this.out(text);
      return entries;
    }
    const header = ['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'];
    this.out(renderColumns([header, ...rows.map((r) => [r.ID, r.CreatedSince, r.CreatedBy, r.Size, r.Comment])]));
    return entries;
  }
}
