import { Args, Flags } from '@oclif/core';
import { ComposeCommand, type ComposeGlobalFlags } from '../../compose-command.js';
import { CliError } from '../../hypr-command.js';

export default class ComposeBuild extends ComposeCommand {
  static override summary = 'Build or rebuild services';
  static override usage = 'compose build [OPTIONS] [SERVICE...]';
  static override strict = false;
  static override args = { services: Args.string({ required: false }) };
  static override flags = {
    'build-arg': Flags.string({ multiple: true, summary: 'Set build-time variables for services' }),
    'no-cache': Flags.boolean({ summary: 'Do not use cache when building the image' }),
    pull: Flags.boolean({ summary: 'Always attempt to pull a newer version of the image' }),
    quiet: Flags.boolean({ char: 'q', summary: "Don't print anything to STDOUT" }),
  };

  async run(): Promise<void> {
    const { flags, argv } = await this.parseCompose<
      ComposeGlobalFlags & { 'build-arg'?: string[]; 'no-cache': boolean; pull: boolean; quiet: boolean }
    >(ComposeBuild);
    const buildArgs: Record<string, string> = {};
    for (const a of flags['build-arg'] ?? []) {
      const i = a.indexOf('=');
      if (i > 0) buildArgs[a.slice(0, i)] = a.slice(i + 1);
      else if (process.env[a] !== undefined) buildArgs[a] = process.env[a] as string;
      else if (i === 0) throw new CliError(`invalid build argument: ${a}`, 1);
    }
    const { message: spec } = this.loadStack(flags, argv);
    await this.follow(
      this.client.stacks.build({ spec, services: argv, noCache: flags['no-cache'], pull: flags.pull, buildArgs }),
    );
  }
}
