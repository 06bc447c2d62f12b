import type { ImageSummary, StackContainer } from '@hypr/api';
import { humanSize } from '@hypr/api/units';
import { Args, Flags } from '@oclif/core';
import { ComposeCommand, type ComposeGlobalFlags } from '../../compose-command.js';
import { familiarName, shortId, splitRepoTag } from '../../format/names.js';
import { renderColumns } from '../../format/table.js';

/** docker compose images --format json's fields. */
export interface ComposeImage {
  ID: string;
  ContainerName: string;
  Repository: string;
  Tag: string;
  Size: number;
}

export default class ComposeImages extends ComposeCommand {
  static override summary = 'List images used by the created containers';
  static override usage = 'compose images [OPTIONS] [SERVICE...]';
  static override strict = false;
  static override enableJsonFlag = true;
  static override args = { services: Args.string({ required: false }) };
  static override flags = {
    quiet: Flags.boolean({ char: 'q', summary: 'Only display IDs' }),
  };

  async run(): Promise<ComposeImage[]> {
    const { flags, argv } = await this.parseCompose<ComposeGlobalFlags & { quiet: boolean; json?: boolean }>(
      ComposeImages,
    );
    const { name } = this.projectOf(flags);
    const [{ containers }, { images }] = await Promise.all([
      this.client.stacks.containers({ name, services: argv, all: true }),
      this.client.images.list({ all: true }),
    ]);
    const result = containers.map((c) =>
      composeImage(
        c,
        images.find((i) => i.digest === c.imageDigest),
      ),
    );
    if (flags.json) return result;
    if (flags.quiet) {
      for (const id of new Set(result.map((r) => r.ID))) this.out(shortId(id));
      return result;
    }
    const rows = result.map((r) => [r.ContainerName, r.Repository, r.Tag, shortId(r.ID), humanSize(r.Size)]);
    this.out(renderColumns([['CONTAINER', 'REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE'], ...rows]));
    return result;
  }
}

function composeImage(c: StackContainer, image: ImageSummary | undefined): ComposeImage {
  const ref = familiarName(c.image);
  const { repository, tag } = splitRepoTag(ref);
  return {
    ID: image?.id ?? '',
    ContainerName: c.name,
    Repository: repository,
    Tag: tag === '<none>' && !ref.includes('@') ? 'latest' : tag,
    Size: Number(image?.sizeBytes ?? 0),
  };
}
