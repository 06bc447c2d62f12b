import { Args } from '@oclif/core';
import { ComposeCommand, type ComposeGlobalFlags } from '../../compose-command.js';

export default class ComposeStart extends ComposeCommand {
  static override summary = 'Start services';
  static override usage = 'compose start [OPTIONS] [SERVICE...]';
  static override strict = false;
  static override args = { services: Args.string({ required: false }) };
  static override flags = {};

  async run(): Promise<void> {
    const { flags, argv } = await this.parseCompose<ComposeGlobalFlags & { dryRun?: boolean }>(ComposeStart);
    const { name } = this.projectOf(flags);
    await this.follow(this.client.stacks.control({ name, action: 'start', services: argv }));
  }
}
