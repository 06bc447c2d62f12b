import { Args, Flags } from '@oclif/core';
import { HyprCommand } from '../hypr-command.js';
import { ProgressView } from '../progress.js';

export default class Push extends HyprCommand {
  static override summary = 'Upload an image to a registry';
  static override usage = 'push [OPTIONS] NAME[:TAG]';
  static override enableJsonFlag = true;
  static override args = { name: Args.string({ required: true }) };
  static override flags = { quiet: Flags.boolean({ char: 'q', summary: 'Suppress verbose output' }) };

  async run(): Promise<{ digest: string }> {
    const { flags, args } = await this.parseArgs<{ quiet: boolean }, { name: string }>(Push);
    const quiet = flags.quiet || this.jsonEnabled();
    const view = quiet ? undefined : new ProgressView(process.stdout, 'Pushed');
    if (!quiet) this.out(`The push refers to repository [${args.name.replace(/:[^:/]+$/, '')}]`);
    let digest = '';
    for await (const m of this.client.images.push({ ref: args.name })) {
      if (m.event.case === 'progress') view?.update(m.event.value);
      else if (m.event.case === 'digest') digest = m.event.value;
    }
    if (!quiet) this.out(`${args.name.split(':').at(-1) ?? 'latest'}: digest: ${digest}`);
    return { digest };
  }
}
