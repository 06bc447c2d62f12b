import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { CliError, HyprCommand } from '../../hypr-command.js';

export default class ImageImport extends HyprCommand {
  static override summary = 'Import the contents from a tarball to create a filesystem image';
  static override description = 'The tarball may be plain, gzip or zstd; "-" reads it from stdin.';
  static override usage = 'image import [OPTIONS] file|- [REPOSITORY[:TAG]]';
  static override aliases = ['import'];
  static override args = {
    file: Args.string({ required: true, description: 'a tarball, or - for stdin' }),
    reference: Args.string({ required: false }),
  };
  static override flags = {
    change: Flags.string({
      char: 'c',
      summary: 'Apply Dockerfile instruction to the created image',
      multiple: true,
      multipleNonGreedy: true,
    }),
    message: Flags.string({ char: 'm', summary: 'Set commit message for imported image' }),
  };

  async run(): Promise<string> {
    const { flags, args } = await this.parseArgs<
      { change?: string[]; message?: string },
      { file: string; reference?: string }
    >(ImageImport);
    if (/^https?:\/\//.test(args.file))
      throw new CliError(
        `importing from a URL is not supported: ${args.file}`,
        1,
        'download it, then import the file',
        'CLI_FLAG_INVALID',
      );
    const path = args.file === '-' ? '-' : resolve(args.file);
    const input = path === '-' ? process.stdin : createReadStream(path);
    const opened = new Promise<void>((ok, fail) => {
      if (path === '-') return ok();
      input.once('open', () => ok());
      input.once('error', (e: NodeJS.ErrnoException) =>
        fail(
          new CliError(
            `open ${args.file}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`,
            1,
            undefined,
            'CLI_FILE_NOT_FOUND',
          ),
        ),
      );
    });
    await opened;
    const start = {
      reference: args.reference ?? '',
      message: flags.message ?? '',
      changes: flags.change ?? [],
      source: args.file,
    };
    async function* requests() {
      yield { msg: { case: 'start' as const, value: start } };
      for await (const c of input) yield { msg: { case: 'data' as const, value: c as Buffer } };
    }
    const { id } = await this.client.images.import(requests());
    this.out(id);
    return id;
  }
}
