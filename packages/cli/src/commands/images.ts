import type { ImageSummary } from '@hypr/api';
import { goTime, humanDuration, humanSize } from '@hypr/api/units';
import { Args, Flags } from '@oclif/core';
import { familiarName, shortId, splitRepoTag } from '../format/names.js';
import { renderColumns } from '../format/table.js';
import { formatRows } from '../format/template.js';
import { CliError, HyprCommand } from '../hypr-command.js';

const TITLES: Record<string, string> = {
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  ID: 'IMAGE ID',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
};

export default class Images extends HyprCommand {
  static override summary = 'List images';
  static override usage = 'images [OPTIONS] [REPOSITORY[:TAG]]';
  static override enableJsonFlag = true;
  static override args = { reference: Args.string({ required: false }) };
  static override flags = {
    all: Flags.boolean({ char: 'a', summary: 'Show all images' }),
    quiet: Flags.boolean({ char: 'q', summary: 'Only show image IDs' }),
    digests: Flags.boolean({ summary: 'Show digests' }),
    format: Flags.string({ summary: 'Format output using a custom template' }),
    'no-trunc': Flags.boolean({ summary: "Don't truncate output" }),
    filter: Flags.string({
      char: 'f',
      summary: 'Filter output (dangling=true)',
      multiple: true,
      multipleNonGreedy: true,
    }),
  };

  async run(): Promise<ImageSummary[]> {
    const { flags, args } = await this.parseArgs<
      { all: boolean; quiet: boolean; digests: boolean; format?: string; 'no-trunc': boolean; filter?: string[] },
      { reference?: string }
    >(Images);
    let { images } = await this.client.images.list({ all: flags.all });
    if (this.jsonEnabled()) return images;
    const now = Date.now();
    type Row = Record<string, string>;
    const rows: Row[] = [];
    for (const img of images) {
      const names = img.tags.length ? img.tags.map(familiarName) : ['<none>:<none>'];
      for (const n of names) {
        const { repository, tag } = n === '<none>:<none>' ? { repository: '<none>', tag: '<none>' } : splitRepoTag(n);
        rows.push({
          Repository: repository,
          Tag: tag,
          ID: flags['no-trunc'] ? img.id : shortId(img.id),
          Digest: img.digest,
          CreatedSince: `${humanDuration(now - Number(img.createdAt))} ago`,
          CreatedAt: goTime(Number(img.createdAt)),
          Size: humanSize(Number(img.sizeBytes)),
          Containers: String(img.containers),
        });
      }
    }
    let shown = rows;
    if (args.reference) {
      const want = familiarName(args.reference);
      shown = rows.filter((r) => r.Repository === want || `${r.Repository}:${r.Tag}` === want);
    }
    for (const f of flags.filter ?? []) {
      if (f === 'dangling=true') shown = shown.filter((r) => r.Repository === '<none>');
      else if (f === 'dangling=false') shown = shown.filter((r) => r.Repository !== '<none>');
      else if (f.startsWith('reference=')) {
        const pat = new RegExp(
          `^${f
            .slice(10)
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')}$`,
        );
        shown = shown.filter((r) => pat.test(r.Repository) || pat.test(`${r.Repository}:${r.Tag}`));
      } else throw new CliError(`invalid filter '${f}'`, 1);
    }
    images = images.filter((i) => shown.some((r) => r.Digest === i.digest));
    if (flags.quiet) {
      for (const id of new Set(shown.map((r) => r.ID))) this.out(id);
      return images;
    }
    if (flags.format) {
      const text = formatRows(flags.format, shown, TITLES);
      if (text) this.out(text);
      return images;
    }
    const header = flags.digests
      ? ['REPOSITORY', 'TAG', 'DIGEST', 'IMAGE ID', 'CREATED', 'SIZE']
      : ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'];
    this.out(
      renderColumns([
        header,
        ...shown.map((r) =>
          flags.digests
            ? [r.Repository, r.Tag, r.Digest, r.ID, r.CreatedSince, r.Size]
            : [r.Repository, r.Tag, r.ID, r.CreatedSince, r.Size],
        ),
      ]),
    );
    return images;
  }
}
