import { createReadStream } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Flags } from '@oclif/core';
import { checkOutputFile } from '../file-args.js';
import { CliError, HyprCommand } from '../hypr-command.js';

export default class Save extends HyprCommand {
  static override summary = 'Save one or more images to a tar archive (streamed to STDOUT by default)';
  static override usage = 'save [OPTIONS] IMAGE [IMAGE...]';
  static override strict = false;
  static override flags = { output: Flags.string({ char: 'o', summary: 'Write to a file, instead of STDOUT' }) };

  async run(): Promise<void> {
    const { flags, argv } = await this.parseArgs<{ output?: string }, Record<string, never>>(Save);
    if (!argv.length)
      throw new CliError('"hypr save" requires at least 1 argument.', 1, undefined, 'CLI_ARGUMENT_MISSING');
    if (flags.output) {
      const path = resolve(flags.output);
      checkOutputFile(path, '-o, --output');
      await this.client.images.save({ refs: argv, path });
      return;
    }
    if (process.stdout.isTTY)
      throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect', 1);
    const tmp = await mkdtemp(join(tmpdir(), 'hypr-save-'));
    try {
      await chmod(tmp, 0o777);
      const path = join(tmp, 'archive.tar');
      await this.client.images.save({ refs: argv, path });
      await pipeline(createReadStream(path), process.stdout);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
}
