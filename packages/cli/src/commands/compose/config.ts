import { printCompose } from '@hypr/core/compose';
import { Flags } from '@oclif/core';
import { ComposeCommand, type ComposeGlobalFlags } from '../../compose-command.js';

export default class ComposeConfig extends ComposeCommand {
  static override summary = 'Parse, resolve and render compose file in canonical format';
  static override usage = 'compose config [OPTIONS] [SERVICE...]';
  static override strict = false;
  static override flags = {
    services: Flags.boolean({ summary: 'Print the service names, one per line' }),
    volumes: Flags.boolean({ summary: 'Print the volume names, one per line' }),
    networks: Flags.boolean({ summary: 'Print the network names, one per line' }),
    quiet: Flags.boolean({ char: 'q', summary: 'Only validate the configuration, do not print anything' }),
  };

  async run(): Promise<void> {
    const { flags, argv } = await this.parseCompose<
      ComposeGlobalFlags & { services: boolean; volumes: boolean; networks: boolean; quiet: boolean }
    >(ComposeConfig);
    const { project } = this.loadStack(flags, argv);
    if (flags.quiet) return;
    if (flags.services) {
      for (const name of Object.keys(project.services)) this.out(name);
      return;
    }
    if (flags.volumes) {
      for (const name of Object.keys(project.volumes ?? {})) this.out(name);
      return;
    }
    if (flags.networks) {
      for (const name of Object.keys(project.networks ?? {})) this.out(name);
      return;
    }
    process.stdout.write(printCompose(project));
  }
}
