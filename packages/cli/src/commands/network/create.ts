import { Args, Flags } from '@oclif/core';
import { parseLabels } from '../../docker-args.js';
import { CliError, HyprCommand } from '../../hypr-command.js';

export default class NetworkCreate extends HyprCommand {
  static override summary = 'Create a network';
  static override usage = 'network create [OPTIONS] NETWORK';
  static override enableJsonFlag = true;
  static override args = { name: Args.string({ required: true, description: 'network name' }) };
  static override examples = ['hypr network create --subnet 10.200.0.0/24 backend'];
  static override flags = {
    driver: Flags.string({ char: 'd', summary: 'Driver to manage the network (bridge only)', default: 'bridge' }),
    subnet: Flags.string({ summary: 'Subnet in CIDR format that represents a network segment' }),
    gateway: Flags.string({ summary: 'IPv4 gateway for the subnet' }),
    'ip-range': Flags.string({ summary: 'Allocate container IPs from a sub-range' }),
    internal: Flags.boolean({ summary: 'Restrict external access to the network' }),
    label: Flags.string({ summary: 'Set metadata on a network', multiple: true, multipleNonGreedy: true }),
    attachable: Flags.boolean({ summary: 'Accepted for compatibility' }),
  };

  async run(): Promise<{ id: string }> {
    const { flags, args } = await this.parseArgs<
      { driver: string; subnet?: string; gateway?: string; 'ip-range'?: string; internal: boolean; label?: string[] },
      { name: string }
    >(NetworkCreate);
    let labels: Record<string, string>;
    try {
      labels = parseLabels(flags.label ?? []);
    } catch (e) {
      throw new CliError((e as Error).message, 1);
    }
    const { id } = await this.client.networks.create({
      name: args.name,
      driver: flags.driver,
      subnet: flags.subnet ?? '',
      gateway: flags.gateway ?? '',
      ipRange: flags['ip-range'] ?? '',
      internal: flags.internal,
      labels,
    });
    if (!this.jsonEnabled()) this.out(id);
    return { id };
  }
}
