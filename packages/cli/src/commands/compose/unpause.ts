import { Args } from '@oclif/core';
import { ComposeCommand, type ComposeGlobalFlags } from '../../compose-command.js';

export default class ComposeUnpause extends ComposeCommand {
  static override summary = 'Unpause services';
  static override usage = 'compose unpause [SERVICE...]';
  static override strict = false;
  static override args = { services: Args.string({ required: false }) };

  async run(): Promise<string[]> {
    const { flags, argv } = await this.parseCompose<ComposeGlobalFlags>(ComposeUnpause);
    const { name } = this.projectOf(flags);
    const { containers } = await this.client.stacks.containers({ name, services: argv, all: true });
    const done: string[] = [];
    for (const c of containers.filter((x) => x.state === 'paused')) {
      await this.client.containers.unpause({ id: c.id });
      this.errLine(` Container ${c.name}  Unpaused`);
      done.push(c.name);
    }
    return done;
  }
}
