import { Args, Flags } from '@oclif/core';
import { ComposeCommand, type ComposeGlobalFlags } from '../../compose-command.js';
import { publishedAddress } from '../../compose-ports.js';
import { CliError } from '../../hypr-command.js';

export default class ComposePort extends ComposeCommand {
  static override summary = 'Print the public port for a port binding';
  static override usage = 'compose port [OPTIONS] SERVICE PRIVATE_PORT';
  static override args = {
    service: Args.string({ required: true, description: 'Service' }),
    port: Args.integer({ required: true, description: 'Private (container) port' }),
  };
  static override flags = {
    index: Flags.integer({ summary: 'Index of the container if service has multiple replicas', default: 1 }),
    protocol: Flags.string({ summary: 'tcp or udp', default: 'tcp', options: ['tcp', 'udp'] }),
  };

  async run(): Promise<string> {
    const { flags, args } = await this.parseCompose<
      ComposeGlobalFlags & { index: number; protocol: string },
      { service: string; port: number }
    >(ComposePort);
    const { name } = this.projectOf(flags);
    const { containers } = await this.client.stacks.containers({ name, services: [args.service], all: false });
    const c = containers.find((x) => x.number === flags.index);
    if (!c) throw new CliError(`service "${args.service}" is not running`, 1);
    const address = publishedAddress(c.publishers, args.port, flags.protocol);
    if (!address) throw new CliError(`no port ${args.port}/${flags.protocol} for container ${c.name}`, 1);
    this.out(address);
    return address;
  }
}
