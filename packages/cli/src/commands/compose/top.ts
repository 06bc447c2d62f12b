import { Args } from '@oclif/core';
import { ComposeCommand, type ComposeGlobalFlags } from '../../compose-command.js';
import { renderColumns } from '../../format/table.js';

export default class ComposeTop extends ComposeCommand {
  static override summary = 'Display the running processes';
  static override usage = 'compose top [SERVICES...]';
  static override strict = false;
  static override args = { services: Args.string({ required: false }) };

  async run(): Promise<Record<string, { titles: string[]; processes: string[][] }>> {
    const { flags, argv } = await this.parseCompose<ComposeGlobalFlags>(ComposeTop);
    const { name } = this.projectOf(flags);
    const { containers } = await this.client.stacks.containers({ name, services: argv, all: false });
    const result: Record<string, { titles: string[]; processes: string[][] }> = {};
    // docker compose top: each container's name, its processes, a blank line.
    for (const c of [...containers].filter((x) => x.state === 'running').sort((a, b) => a.name.localeCompare(b.name))) {
      const top = await this.client.containers.top({ id: c.id, psArgs: [] });
      const rows = top.processes.map((p) => p.cells);
      result[c.name] = { titles: top.titles, processes: rows };
      this.out(`${c.name}\n${renderColumns([top.titles, ...rows])}\n`);
    }
    return result;
  }
}
