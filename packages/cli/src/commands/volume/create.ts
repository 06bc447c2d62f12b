import type { Volume } from '@hypr/api';
import { Args, Flags } from '@oclif/core';
import { parseLabels } from '../../docker-args.js';
import { CliError, HyprCommand } from '../../hypr-command.js';

export default class VolumeCreate extends HyprCommand {
  static override summary = 'Create a volume';
  static override usage = 'volume create [OPTIONS] [VOLUME]';
  static override enableJsonFlag = true;
  static override args = { name: Args.string({ required: false }) };
  static override flags = {
    label: Flags.string({ char: 'l', summary: 'Set metadata for a volume', multiple: true, multipleNonGreedy: true }),
    driver: Flags.string({ char: 'd', summary: 'Specify volume driver name (local only)', default: 'local' }),
    name: Flags.string({ summary: 'Specify volume name' }),
  };

  async run(): Promise<Volume | undefined> {
    const { flags, args } = await this.parseArgs<
      { label?: string[]; driver: string; name?: string },
      { name?: string }
    >(VolumeCreate);
    if (flags.name && args.name && flags.name !== args.name)
      throw new CliError(
        'conflicting options: cannot specify a volume-name through both --name and as a positional arg',
        1,
      );
    let labels: Record<string, string>;
    try {
      labels = parseLabels(flags.label ?? []);
    } catch (e) {
      throw new CliError((e as Error).message, 1);
    }
    const { volume } = await this.client.volumes.create({
      name: args.name ?? flags.name ?? '',
      labels,
      driver: flags.driver,
    });
    if (volume) this.out(volume.name);
    return volume;
  }
}
