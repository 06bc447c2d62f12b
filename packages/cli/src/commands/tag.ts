import { Args } from '@oclif/core';
import { HyprCommand } from '../hypr-command.js';

export default class Tag extends HyprCommand {
  static override summary = 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE';
  static override usage = 'tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]';
  static override args = { source: Args.string({ required: true }), target: Args.string({ required: true }) };

  async run(): Promise<void> {
    const { args } = await this.parseArgs<Record<string, never>, { source: string; target: string }>(Tag);
    await this.client.images.tag({ source: args.source, target: args.target });
  }
}
