// `hypr ps`'s rows and table, shared by the command (commands/ps.ts) and its fast path (fast-ps.ts).
import type { ContainerSummary } from '@hypr/api';
import { goTime, humanDuration, humanSize } from '@hypr/api/units';
import { renderColumns } from './format/table.js';

/** The fields of a container that `ps` shows. */
export type PsSource = Pick<
  ContainerSummary,
  'id' | 'name' | 'image' | 'command' | 'createdAt' | 'state' | 'status' | 'ports' | 'labels' | 'sizeBytes' | 'networks'
>;

/** The column titles of `--format 'table …'` for each field. */
export const PS_TITLES: Record<string, string> = {
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
export function psRow(c: PsSource, noTrunc: boolean, now = Date.now()) {
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

/** The default table (docker's columns, SIZE with -s). */
export function psTable(rows: readonly ReturnType<typeof psRow>[], size: boolean): string {
  const header = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'];
  if (size) header.push('SIZE');
  const table = rows.map((r) => {
    const cols = [r.ID, r.Image, r.Command, r.RunningFor, r.Status, r.Ports, r.Names];
    if (size) cols.push(r.Size);
    return cols;
  });
  return renderColumns([header, ...table]);
}

/** `-q`: the ids, one a line. */
export function psIds(containers: readonly PsSource[], noTrunc: boolean): string {
  return containers.map((c) => (noTrunc ? c.id : c.id.slice(0, 12))).join('\n');
}
