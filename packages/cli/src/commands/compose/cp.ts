import { Args, Flags } from '@oclif/core';
import { ComposeCommand, type ComposeGlobalFlags } from '../../compose-command.js';
import { CliError } from '../../hypr-command.js';
import Cp, { parseCpTarget } from '../cp.js';

export default class ComposeCp extends ComposeCommand {
  static override summary = 'Copy files/folders between a service container and the local filesystem';
  static override usage = [
    'compose cp [OPTIONS] SERVICE:SRC_PATH DEST_PATH|-',
    'compose cp [OPTIONS] SRC_PATH|- SERVICE:DEST_PATH',
  ];
  static override args = {
    source: Args.string({ required: true }),
    destination: Args.string({ required: true }),
  };
  static override flags = {
    archive: Flags.boolean({ char: 'a', summary: 'Archive mode (copy all uid/gid information)' }),
    'follow-link': Flags.boolean({ char: 'L', summary: 'Always follow symbol link in SRC_PATH' }),
    index: Flags.integer({ summary: 'Index of the container if service has multiple replicas', default: 1 }),
  };

  async run(): Promise<void> {
    const { flags, args } = await this.parseCompose<
      ComposeGlobalFlags & { archive: boolean; 'follow-link': boolean; index: number },
      { source: string; destination: string }
    >(ComposeCp);
    const { name } = this.projectOf(flags);
    const toContainer = async (arg: string): Promise<string> => {
      const t = parseCpTarget(arg);
      if (t.container === undefined) return arg;
      const { containers } = await this.client.stacks.containers({ name, services: [t.container], all: true });
      const c = containers.find((x) => x.number === flags.index);
      if (!c)
        throw new CliError(
          `no container found for service "${t.container}"${flags.index > 1 ? ` (index ${flags.index})` : ''}`,
          1,
          undefined,
          'CLI_ARGUMENT_MISSING',
        );
      return `${c.name}:${t.path}`;
    };
    const argv = [...(flags.archive ? ['-a'] : []), ...(flags['follow-link'] ? ['-L'] : [])];
    await Cp.run([...argv, await toContainer(args.source), await toContainer(args.destination)], this.config);
  }
}
