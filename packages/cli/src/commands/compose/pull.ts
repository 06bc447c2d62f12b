import { Args, Flags } from '@oclif/core';
import { ComposeCommand, type ComposeGlobalFlags } from '../../compose-command.js';

export default class ComposePull extends ComposeCommand {
  static override summary = 'Pull service images';
  static override usage = 'compose pull [OPTIONS] [SERVICE...]';
  static override strict = false;
  static override args = { services: Args.string({ required: false }) };
  static override flags = {
    'ignore-pull-failures': Flags.boolean({ summary: 'Pull what it can and ignores images with pull failures' }),
    quiet: Flags.boolean({ char: 'q', summary: 'Pull without printing progress information' }),
  };

  async run(): Promise<void> {
    const { flags, argv } = await this.parseCompose<
      ComposeGlobalFlags & { 'ignore-pull-failures': boolean; quiet: boolean }
    >(ComposePull);
    const { message: spec } = this.loadStack(flags, argv);
    await this.follow(this.client.stacks.pull({ spec, services: argv, ignoreFailures: flags['ignore-pull-failures'] }));
  }
}
