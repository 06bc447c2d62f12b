import { Args, Flags } from '@oclif/core';
import { ComposeCommand, type ComposeGlobalFlags } from '../../compose-command.js';

export default class ComposeRestart extends ComposeCommand {
  static override summary = 'Restart service containers';
  static override usage = 'compose restart [OPTIONS] [SERVICE...]';
  static override strict = false;
  static override args = { services: Args.string({ required: false }) };
  static override flags = {
    timeout: Flags.integer({ char: 't', summary: 'Specify a shutdown timeout in seconds' }),
  };

  async run(): Promise<void> {
    const { flags, argv } = await this.parseCompose<ComposeGlobalFlags & { timeout?: number }>(ComposeRestart);
    const { name } = this.projectOf(flags);
    await this.follow(
      this.client.stacks.control({ name, action: 'restart', services: argv, timeoutSeconds: flags.timeout }),
    );
  }
}
