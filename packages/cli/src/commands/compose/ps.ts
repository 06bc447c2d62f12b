import type { StackContainer } from '@hypr/api';
import { humanDuration } from '@hypr/api/units';
import { Args, Flags } from '@oclif/core';
import { ComposeCommand, type ComposeGlobalFlags } from '../../compose-command.js';
import { portsColumn } from '../../compose-ports.js';
import { renderColumns } from '../../format/table.js';

export default class ComposePs extends ComposeCommand {
  static override summary = 'List containers';
  static override usage = 'compose ps [OPTIONS] [SERVICE...]';
  static override strict = false;
  static override enableJsonFlag = true;
  static override args = { services: Args.string({ required: false }) };
  static override flags = {
    all: Flags.boolean({
      char: 'a',
      summary: 'Show all stopped containers (including those created by the run command)',
    }),
    quiet: Flags.boolean({ char: 'q', summary: 'Only display IDs' }),
    services: Flags.boolean({ summary: 'Display services' }),
    status: Flags.string({ multiple: true, summary: 'Filter services by status' }),
  };

  async run(): Promise<ReturnType<typeof plain>[]> {
    const { flags, argv } = await this.parseCompose<
      ComposeGlobalFlags & { all: boolean; quiet: boolean; services: boolean; status?: string[]; json?: boolean }
    >(ComposePs);
    const { name } = this.projectOf(flags);
    const r = await this.client.stacks.containers({ name, services: argv, all: flags.all || !!flags.status });
    const list = r.containers.filter((c) => !flags.status || flags.status.includes(c.state));
    const result = list.map(plain);
    if (flags.json) return result;
    if (flags.quiet) {
      for (const c of list) this.out(c.id);
      return result;
    }
    if (flags.services) {
      for (const s of new Set(list.map((c) => c.service))) this.out(s);
      return result;
    }
    const now = Date.now();
    const rows = list.map((c) => [
      c.name,
      c.image,
      `"${c.command.length > 20 ? `${c.command.slice(0, 19)}…` : c.command}"`,
      c.service,
      `${humanDuration(now - Number(c.createdAt))} ago`,
      c.status,
      portsColumn(c.publishers),
    ]);
    this.out(renderColumns([['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS'], ...rows]));
    return result;
  }
}

/** docker compose ps --format json's fields. */
function plain(c: StackContainer) {
  return {
    ID: c.id,
    Name: c.name,
    Service: c.service,
    Image: c.image,
    Command: c.command,
    State: c.state,
    Status: c.status,
    Health: c.health,
    ExitCode: c.exitCode,
    CreatedAt: Number(c.createdAt),
    Ports: portsColumn(c.publishers),
    Publishers: c.publishers.map((p) => ({
      URL: p.url,
      TargetPort: p.targetPort,
      PublishedPort: p.publishedPort,
      Protocol: p.protocol,
    })),
    Labels: c.labels,
    Project: c.labels['com.docker.compose.project'] ?? '',
  };
}
