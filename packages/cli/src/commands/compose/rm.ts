import { Args, Flags } from '@oclif/core';
import { ComposeCommand, type ComposeGlobalFlags } from '../../compose-command.js';

export default class ComposeRm extends ComposeCommand {
  static override summary = 'Removes stopped service containers';
  static override usage = 'compose rm [OPTIONS] [SERVICE...]';
  static override strict = false;
  static override args = { services: Args.string({ required: false }) };
  static override flags = {
    force: Flags.boolean({ char: 'f', summary: "Don't ask to confirm removal" }),
    stop: Flags.boolean({ char: 's', summary: 'Stop the containers, if required, before removing' }),
    volumes: Flags.boolean({ char: 'v', summary: 'Remove any anonymous volumes attached to containers' }),
  };

  async run(): Promise<void> {
    const { flags, argv } = await this.parseCompose<ComposeGlobalFlags & { stop: boolean }>(ComposeRm);
    const { name } = this.projectOf(flags);
    await this.follow(this.client.stacks.control({ name, action: 'rm', services: argv, stopFirst: flags.stop }));
  }
}
