import { Args, Flags } from '@oclif/core';
import { ComposeCommand, type ComposeGlobalFlags } from '../../compose-command.js';

export default class ComposeKill extends ComposeCommand {
  static override summary = 'Force stop service containers';
  static override usage = 'compose kill [OPTIONS] [SERVICE...]';
  static override strict = false;
  static override args = { services: Args.string({ required: false }) };
  static override flags = {
    signal: Flags.string({ char: 's', summary: 'SIGNAL to send to the container', default: 'SIGKILL' }),
  };

  async run(): Promise<void> {
    const { flags, argv } = await this.parseCompose<ComposeGlobalFlags & { signal: string }>(ComposeKill);
    const { name } = this.projectOf(flags);
    await this.follow(this.client.stacks.control({ name, action: 'kill', services: argv, signal: flags.signal }));
  }
}
