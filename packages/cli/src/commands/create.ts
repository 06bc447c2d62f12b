import { HyprCommand } from '../hypr-command.js';
import { createFlags, toContainerSpec } from '../run-flags.js';
import { createContainer } from './run.js';

export default class Create extends HyprCommand {
  static override summary = 'Create a new container';
  static override usage = 'create [OPTIONS] IMAGE [COMMAND] [ARG...]';
  static override strict = false;
  static override errorExitCode = 125;
  static override flags = createFlags;

  async run(): Promise<{ id: string; name: string }> {
    const { flags, rest } = await this.parseDocker<Record<string, unknown>>(Create);
    const { spec, name } = toContainerSpec(flags, rest);
    const created = await createContainer(this, spec, name, flags.platform as string | undefined);
    this.out(created.id);
    return { id: created.id, name: created.name };
  }
}
