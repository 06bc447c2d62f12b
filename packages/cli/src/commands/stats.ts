import type { ContainerStats } from '@hypr/api';
import { humanSize } from '@hypr/api/units';
import { Flags } from '@oclif/core';
import { renderColumns } from '../format/table.js';
import { formatRows } from '../format/template.js';
import { HyprCommand } from '../hypr-command.js';

const TITLES: Record<string, string> = {
  Container: 'CONTAINER',
  ID: 'CONTAINER ID',
  Name: 'NAME',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

const DEFAULT_FORMAT =
  'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';

/** docker's binary sizes for memory (MiB, GiB), decimal ones for I/O (kB, MB). */
function binarySize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

/** One row as docker's stats formatter sees it. */
export function statsRow(s: ContainerStats, noTrunc = false) {
  const usage = Number(s.memoryUsageBytes);
  const limit = Number(s.memoryLimitBytes);
  const dash = !s.running;
  return {
    Container: s.name,
    ID: noTrunc ? s.id : s.id.slice(0, 12),
    Name: s.name,
    CPUPerc: dash ? '--' : `${s.cpuPercent.toFixed(2)}%`,
    MemUsage: dash ? '-- / --' : `${binarySize(usage)} / ${binarySize(limit)}`,
    MemPerc: dash ? '--' : `${(limit ? (usage / limit) * 100 : 0).toFixed(2)}%`,
    NetIO: dash ? '--' : `${humanSize(Number(s.netRxBytes))} / ${humanSize(Number(s.netTxBytes))}`,
    BlockIO: dash ? '--' : `${humanSize(Number(s.blockReadBytes))} / ${humanSize(Number(s.blockWriteBytes))}`,
    PIDs: dash ? '--' : String(s.pids),
  };
}

export default class Stats extends HyprCommand {
  static override summary = 'Display a live stream of container(s) resource usage statistics';
  static override description =
    'CPU % is the VM process on the host, memory what the guest uses of the VM, NET I/O its TAP devices,\n' +
    'BLOCK I/O its disks as the hypervisor counts them.';
  static override usage = 'stats [OPTIONS] [CONTAINER...]';
  static override strict = false;
  static override enableJsonFlag = true;
  static override flags = {
    all: Flags.boolean({ char: 'a', summary: 'Show all containers (default shows just running)' }),
    'no-stream': Flags.boolean({ summary: 'Disable streaming stats and only pull the first result' }),
    'no-trunc': Flags.boolean({ summary: "Don't truncate output" }),
    format: Flags.string({ summary: 'Format output using a custom template' }),
  };

  async run(): Promise<ContainerStats[]> {
    const { flags, argv } = await this.parseArgs<
      { all: boolean; 'no-stream': boolean; 'no-trunc': boolean; format?: string },
      Record<string, never>
    >(Stats);
    const json = this.jsonEnabled();
    const stream = !flags['no-stream'] && !json;
    const live = stream && process.stdout.isTTY;
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    let last: ContainerStats[] = [];
    try {
      for await (const round of this.client.containers.stats(
        { ids: argv, all: flags.all, stream },
        { signal: controller.signal },
      )) {
        last = round.stats;
        if (json) break;
        const text = this.render(last, flags.format, flags['no-trunc']);
        // Live mode redraws in place, as docker does: cursor home, clear the screen.
        if (live) process.stdout.write(`\x1b[H\x1b[2J${text}\n`);
        else this.out(text);
      }
    } catch (e) {
      if (!controller.signal.aborted) throw e;
    } finally {
      process.removeListener('SIGINT', stop);
    }
    return last;
  }

  private render(stats: ContainerStats[], format: string | undefined, noTrunc: boolean): string {
    const rows = stats.map((s) => statsRow(s, noTrunc));
    const f = !format || format === 'table' ? DEFAULT_FORMAT : format;
    if (f === DEFAULT_FORMAT) {
      const header = ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'];
      return renderColumns([
        header,
        ...rows.map((r) => [r.ID, r.Name, r.CPUPerc, r.MemUsage, r.MemPerc, r.NetIO, r.BlockIO, r.PIDs]),
      ]);
    }
    return formatRows(f, rows, TITLES);
  }
}
