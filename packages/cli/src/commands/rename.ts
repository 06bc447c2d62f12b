import { Args } from '@oclif/core';
import { HyprCommand } from '../hypr-command.js';

export default class Rename extends HyprCommand {
  static override summary = 'Rename a container';
  static override usage = 'rename CONTAINER NEW_NAME';
  static override args = {
    container: Args.string({ required: true, description: 'The container to rename' }),
    name: Args.string({ required: true, description: 'Its new name' }),
  };

  async run(): Promise<{ id: string; name: string }> {
    const { args } = await this.parseArgs<Record<string, never>, { container: string; name: string }>(Rename);
    const r = await this.client.containers.rename({ id: args.container, name: args.name });
    return { id: r.id, name: r.name };
  }
}
