import { Stream } from '@hypr/api';
import { Args, Flags } from '@oclif/core';
import { parseTimestamp } from '../docker-args.js';
import { CliError, HyprCommand } from '../hypr-command.js';

export default class Logs extends HyprCommand {
  static override summary = 'Fetch the logs of a container';
  static override usage = 'logs [OPTIONS] CONTAINER';
  static override args = { container: Args.string({ required: true, description: 'Container name or ID' }) };
  static override flags = {
    follow: Flags.boolean({ char: 'f', summary: 'Follow log output' }),
    timestamps: Flags.boolean({ char: 't', summary: 'Show timestamps' }),
    tail: Flags.string({ char: 'n', summary: 'Number of lines to show from the end of the logs', default: 'all' }),
    since: Flags.string({ summary: 'Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)' }),
    until: Flags.string({ summary: 'Show logs before a timestamp or relative' }),
    details: Flags.boolean({ summary: 'Accepted for compatibility' }),
  };

  async run(): Promise<void> {
    const { flags, args } = await this.parseArgs<
      { follow: boolean; timestamps: boolean; tail: string; since?: string; until?: string },
      { container: string }
    >(Logs);
    let tail = -1;
    if (flags.tail !== 'all') {
      tail = Number(flags.tail);
      if (!Number.isInteger(tail)) throw new CliError(`invalid value for --tail: ${flags.tail}`, 125);
    }
    let sinceMs = 0;
    let untilMs = 0;
    try {
      if (flags.since) sinceMs = parseTimestamp(flags.since);
      if (flags.until) untilMs = parseTimestamp(flags.until);
    } catch (e) {
      throw new CliError((e as Error).message, 125);
    }
    const abort = new AbortController();
    const onInt = () => abort.abort();
    process.once('SIGINT', onInt);
    try {
      for await (const m of this.client.containers.logs(
        {
          id: args.container,
          follow: flags.follow,
          tail,
          sinceMs: BigInt(sinceMs),
          untilMs: BigInt(untilMs),
          stdout: true,
          stderr: true,
        },
        { signal: abort.signal },
      )) {
        const out = m.stream === Stream.STDERR ? process.stderr : process.stdout;
        if (flags.timestamps) out.write(`${m.time} `);
        out.write(m.data);
      }
    } catch (e) {
      if (!abort.signal.aborted) throw e;
    } finally {
      process.off('SIGINT', onInt);
    }
  }
}
