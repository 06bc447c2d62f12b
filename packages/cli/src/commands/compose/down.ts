import { Flags } from '@oclif/core';
import { ComposeCommand, type ComposeGlobalFlags } from '../../compose-command.js';

export default class ComposeDown extends ComposeCommand {
  static override summary = 'Stop and remove containers, networks';
  static override usage = 'compose down [OPTIONS]';
  static override flags = {
    volumes: Flags.boolean({
      char: 'v',
      summary: 'Remove named volumes declared in the "volumes" section and anonymous volumes',
    }),
    'remove-orphans': Flags.boolean({ summary: 'Remove containers for services not defined in the Compose file' }),
    timeout: Flags.integer({ char: 't', summary: 'Specify a shutdown timeout in seconds' }),
    rmi: Flags.string({
      summary:
        'Remove images used by services. "local" remove only images that don\'t have a custom tag ("local"|"all")',
      options: ['local', 'all'],
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parseCompose<
      ComposeGlobalFlags & { volumes: boolean; 'remove-orphans': boolean; timeout?: number; rmi?: string }
    >(ComposeDown);
    const { name, loaded } = this.projectOf(flags);
    await this.follow(
      this.client.stacks.down({
        name,
        spec: loaded?.message,
        volumes: flags.volumes,
        removeOrphans: flags['remove-orphans'],
        timeoutSeconds: flags.timeout,
        rmi: flags.rmi ?? '',
      }),
    );
  }
}
