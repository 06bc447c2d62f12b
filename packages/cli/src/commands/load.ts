import { createWriteStream } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Flags } from '@oclif/core';
import { checkInputFile } from '../file-args.js';
import { familiarName } from '../format/names.js';
import { HyprCommand } from '../hypr-command.js';

export default class Load extends HyprCommand {
  static override summary = 'Load an image from a tar archive or STDIN';
  static override usage = 'load [OPTIONS]';
  static override enableJsonFlag = true;
  static override flags = {
    input: Flags.string({ char: 'i', summary: 'Read from tar archive file, instead of STDIN' }),
    quiet: Flags.boolean({ char: 'q', summary: 'Suppress the load output' }),
  };

  async run(): Promise<string[]> {
    const { flags } = await this.parseArgs<{ input?: string; quiet: boolean }, Record<string, never>>(Load);
    let path = flags.input ? resolve(flags.input) : undefined;
    if (path) checkInputFile(path, '-i, --input');
    let tmp: string | undefined;
    try {
      if (!path) {
        // The daemon reads files, not streams: stage STDIN in a private temp file it can read.
        tmp = await mkdtemp(join(tmpdir(), 'hypr-load-'));
        path = join(tmp, 'archive.tar');
        await pipeline(process.stdin, createWriteStream(path, { mode: 0o644 }));
        await chmod(tmp, 0o755);
      }
      const { images } = await this.client.images.load({ path });
      const names = images.flatMap((i) => (i.tags.length ? i.tags.map(familiarName) : [i.id]));
      if (!flags.quiet && !this.jsonEnabled())
        for (const i of images) {
          if (i.tags.length) for (const t of i.tags) this.out(`Loaded image: ${familiarName(t)}`);
          else this.out(`Loaded image ID: ${i.id}`);
        }
      return names;
    } finally {
      if (tmp) await rm(tmp, { recursive: true, force: true });
    }
  }
}
