import { Args } from '@oclif/core';
import { CliError, HyprCommand } from '../hypr-command.js';

type Ports = Record<string, { HostIp: string; HostPort: string }[] | null>;

export default class Port extends HyprCommand {
  static override summary = 'List port mappings or a specific mapping for the container';
  static override usage = 'port CONTAINER [PRIVATE_PORT[/PROTO]]';
  static override args = {
    container: Args.string({ required: true }),
    port: Args.string({ required: false }),
  };

  async run(): Promise<string[]> {
    const { args } = await this.parseArgs<Record<string, never>, { container: string; port?: string }>(Port);
    const doc = JSON.parse((await this.client.containers.inspect({ id: args.container })).json) as {
      NetworkSettings?: { Ports?: Ports };
    };
    const ports = doc.NetworkSettings?.Ports ?? {};
    const lines: string[] = [];
    if (args.port) {
      const key = args.port.includes('/') ? args.port : `${args.port}/tcp`;
      const bound = ports[key];
      if (!bound?.length) throw new CliError(`No public port '${key}' published for ${args.container}`, 1);
      for (const b of bound) lines.push(`${b.HostIp}:${b.HostPort}`);
    } else {
      for (const [key, bound] of Object.entries(ports))
        for (const b of bound ?? []) lines.push(`${key} -> ${b.HostIp}:${b.HostPort}`);
    }
    for (const l of lines) this.out(l);
    return lines;
  }
}
