import { Args } from '@oclif/core';
import { ComposeCommand, type ComposeGlobalFlags } from '../../compose-command.js';

export default class ComposePause extends ComposeCommand {
  static override summary = 'Pause services (their VMs are frozen)';
  static override usage = 'compose pause [SERVICE...]';
  static override strict = false;
  static override args = { services: Args.string({ required: false }) };

  async run(): Promise<string[]> {
    const { flags, argv } = await this.parseCompose<ComposeGlobalFlags>(ComposePause);
    const { name } = this.projectOf(flags);
    const { containers } = await this.client.stacks.containers({ name, services: argv, all: true });
    const done: string[] = [];
    for (const c of containers.filter((x) => x.state === 'running')) {
      await this.client.containers.pause({ id: c.id });
      this.errLine(` Container ${c.name}  Paused`);
      done.push(c.name);
    }
    return done;
  }
}
