import type { ContainerSummary } from '@hypr/api';
import { Flags } from '@oclif/core';
import { formatRows } from '../format/template.js';
import { HyprCommand } from '../hypr-command.js';
import { PS_TITLES, psIds, psRow, psTable } from '../ps-table.js';

export default class Ps extends HyprCommand {
  static override summary = 'List containers';
  static override usage = 'ps [OPTIONS]';
  static override enableJsonFlag = true;
  static override flags = {
    all: Flags.boolean({ char: 'a', summary: 'Show all containers (default shows just running)' }),
    quiet: Flags.boolean({ char: 'q', summary: 'Only display container IDs' }),
    last: Flags.integer({ char: 'n', summary: 'Show n last created containers (includes all states)', default: -1 }),
    latest: Flags.boolean({ char: 'l', summary: 'Show the latest created container (includes all states)' }),
    size: Flags.boolean({ char: 's', summary: 'Display total file sizes' }),
    filter: Flags.string({
      char: 'f',
      summary: 'Filter output based on conditions provided',
      multiple: true,
      multipleNonGreedy: true,
    }),
    format: Flags.string({ summary: 'Format output using a custom template' }),
    'no-trunc': Flags.boolean({ summary: "Don't truncate output" }),
  };

  async run(): Promise<ContainerSummary[]> {
    const { flags } = await this.parseArgs<
      {
        all: boolean;
        quiet: boolean;
        last: number;
        latest: boolean;
        size: boolean;
        filter?: string[];
        format?: string;
        'no-trunc': boolean;
        json?: boolean;
      },
      Record<string, never>
    >(Ps);
    const last = flags.latest ? 1 : flags.last > 0 ? flags.last : 0;
    const { containers } = await this.client.containers.list({ all: flags.all, filters: flags.filter ?? [], last });
    if (this.jsonEnabled()) return containers;
    const noTrunc = flags['no-trunc'];
    if (flags.quiet) {
      if (containers.length) this.out(psIds(containers, noTrunc));
      return containers;
    }
    const rows = containers.map((c) => psRow(c, noTrunc));
    if (flags.format && flags.format !== 'table') {
      const text = formatRows(flags.format, rows, PS_TITLES);
      if (text) this.out(text);
      return containers;
    }
    this.out(psTable(rows, flags.size));
    return containers;
  }
}
