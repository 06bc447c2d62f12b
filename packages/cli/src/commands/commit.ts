import { Args, Flags } from '@oclif/core';
import { HyprCommand } from '../hypr-command.js';

export default class Commit extends HyprCommand {
  static override summary = "Create a new image from a container's changes";
  static override description =
    "The container's writable layer becomes one more layer on top of its image. A running VM is frozen\n" +
    'while its layer is read (--pause=false leaves it running; writes during the copy may be missed).';
  static override usage = 'commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]';
  static override args = {
    container: Args.string({ required: true }),
    reference: Args.string({ required: false }),
  };
  static override flags = {
    author: Flags.string({ char: 'a', summary: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' }),
    change: Flags.string({
      char: 'c',
      summary: 'Apply Dockerfile instruction to the created image',
      multiple: true,
      multipleNonGreedy: true,
    }),
    message: Flags.string({ char: 'm', summary: 'Commit message' }),
    pause: Flags.boolean({ char: 'p', summary: 'Pause container during commit', default: true, allowNo: true }),
  };

  async run(): Promise<string> {
    const { flags, args } = await this.parseArgs<
      { author?: string; change?: string[]; message?: string; pause: boolean },
      { container: string; reference?: string }
    >(Commit);
    const { id } = await this.client.containers.commit({
      id: args.container,
      reference: args.reference ?? '',
      message: flags.message ?? '',
      author: flags.author ?? '',
      changes: flags.change ?? [],
      pause: flags.pause,
    });
    this.out(id);
    return id;
  }
}
