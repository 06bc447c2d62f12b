import { Args, Flags } from '@oclif/core';
import { ComposeCommand, type ComposeGlobalFlags } from '../../compose-command.js';
import { followStackLogs } from '../../compose-logs.js';
import { CliError } from '../../hypr-command.js';

export default class ComposeLogs extends ComposeCommand {
  static override summary = 'View output from containers';
  static override usage = 'compose logs [OPTIONS] [SERVICE...]';
  static override strict = false;
  static override args = { services: Args.string({ required: false }) };
  static override flags = {
    follow: Flags.boolean({ char: 'f', summary: 'Follow log output' }),
    timestamps: Flags.boolean({ char: 't', summary: 'Show timestamps' }),
    tail: Flags.string({
      char: 'n',
      summary: 'Number of lines to show from the end of the logs for each container',
      default: 'all',
    }),
    'no-log-prefix': Flags.boolean({ summary: "Don't print prefix in logs" }),
    'no-color': Flags.boolean({ summary: 'Produce monochrome output' }),
  };

  async run(): Promise<void> {
    const { flags, argv } = await this.parseCompose<
      ComposeGlobalFlags & {
        follow: boolean;
        timestamps: boolean;
        tail: string;
        'no-log-prefix': boolean;
        'no-color': boolean;
      }
    >(ComposeLogs);
    let tail = -1;
    if (flags.tail !== 'all') {
      tail = Number(flags.tail);
      if (!Number.isInteger(tail) || tail < 0) throw new CliError(`invalid value for --tail: ${flags.tail}`, 1);
    }
    const { name } = this.projectOf(flags);
    const { containers } = await this.client.stacks.containers({ name, services: argv, all: true });
    const abort = new AbortController();
    const onInt = () => abort.abort();
    process.once('SIGINT', onInt);
    try {
      await followStackLogs(this.client, containers, {
        follow: flags.follow,
        timestamps: flags.timestamps,
        tail,
        prefix: !flags['no-log-prefix'],
        colour: !flags['no-color'] && process.stdout.isTTY === true,
        signal: abort.signal,
      });
    } finally {
      process.off('SIGINT', onInt);
    }
  }
}
