import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Args, Flags } from '@oclif/core';
import { checkOutputFile } from '../file-args.js';
import { CliError, HyprCommand } from '../hypr-command.js';

export default class Export extends HyprCommand {
  static override summary = "Export a container's filesystem as a tar archive";
  static override usage = 'export [OPTIONS] CONTAINER';
  static override args = { container: Args.string({ required: true }) };
  static override flags = { output: Flags.string({ char: 'o', summary: 'Write to a file, instead of STDOUT' }) };

  async run(): Promise<void> {
    const { flags, args } = await this.parseArgs<{ output?: string }, { container: string }>(Export);
    if (!flags.output && process.stdout.isTTY)
      throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect', 1);
    const data = this.data(args.container);
    if (!flags.output) {
      await pipeline(data, process.stdout as unknown as Writable);
      return;
    }
    const path = resolve(flags.output);
    checkOutputFile(path, '-o, --output');
    const tmp = `${path}.hypr-${process.pid}`;
    try {
      await pipeline(data, createWriteStream(tmp));
      await rename(tmp, path);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  private async *data(id: string): AsyncGenerator<Uint8Array> {
    for await (const m of this.client.containers.export({ id })) yield m.data;
  }
}
