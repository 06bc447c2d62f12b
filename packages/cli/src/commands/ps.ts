import type { ContainerSummary } from '@hypr/api';
import { goTime, humanDuration, humanSize } from '@hypr/api/units';
import { Flags } from '@oclif/core';
import { renderColumns } from '../format/table.js';
import { formatRows } from '../format/template.js';
import { HyprCommand } from '../hypr-command.js';

const TITLES: Record<string, string> = {
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Names: 'NAMES',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  Networks: 'NETWORKS',
};

/** One row as docker's formatter sees it: the fields `--format` templates use. */
export function psRow(c: ContainerSummary, noTrunc: boolean, now = Date.now()) {
  const command = `"${c.command}"`;
  const labels = Object.entries(c.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return {
    ID: noTrunc ? c.id : c.id.slice(0, 12),
    Image: c.image,
    Command: noTrunc || command.length <= 22 ? command : `${command.slice(0, 20)}…"`,
    CreatedAt: goTime(Number(c.createdAt)),
    RunningFor: `${humanDuration(now - Number(c.createdAt))} ago`,
    Ports: c.ports.join(', '),
    State: c.state,
    Status: c.status,
    Size: humanSize(Number(c.sizeBytes)),
    Names: c.name,
    Labels: labels,
    Mounts: '',
    Networks: c.networks.join(','),
    Label: (k: string) => c.labels[k] ?? '',
  };
}

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
      for (const c of containers) this.out(noTrunc ? c.id : c.id.slice(0, 12));
      return containers;
    }
    const rows = containers.map((c) => psRow(c, noTrunc));
    if (flags.format && flags.format !== 'table') {
      const text = formatRows(flags.format, rows, TITLES);
      if (text) this.out(text);
      return containers;
    }
    const header = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'];
    if (flags.size) header.push('SIZE');
    const table = rows.map((r) => {
      const cols = [r.ID, r.Image, r.Command, r.RunningFor, r.Status, r.Ports, r.Names];
      if (flags.size) cols.push(r.Size);
      return cols;
    });
    this.out(renderColumns([header, ...table]));
    return containers;
  }
}
