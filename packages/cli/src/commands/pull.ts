import { Args, Flags } from '@oclif/core';
import { HyprCommand } from '../hypr-command.js';
import { pullWithProgress } from '../pull.js';

export default class Pull extends HyprCommand {
  static override summary = 'Download an image from a registry';
  static override usage = 'pull [OPTIONS] NAME[:TAG|@DIGEST]';
  static override enableJsonFlag = true;
  static override args = { name: Args.string({ required: true }) };
  static override flags = {
    quiet: Flags.boolean({ char: 'q', summary: 'Suppress verbose output' }),
    platform: Flags.string({ summary: 'Set platform if server is multi-platform capable' }),
    'all-tags': Flags.boolean({ char: 'a', summary: 'Not supported: pull one tag at a time' }),
  };

  async run(): Promise<{ digest: string; id: string; tags: string[] }> {
    const { flags, args } = await this.parseArgs<{ quiet: boolean; platform?: string }, { name: string }>(Pull);
    const quiet = flags.quiet || this.jsonEnabled();
    const r = await pullWithProgress(this.client, args.name, { platform: flags.platform, quiet });
    if (flags.quiet) this.out(args.name);
    return r;
  }
}
