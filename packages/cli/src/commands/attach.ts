import { Args, Flags } from '@oclif/core';
import { HyprCommand } from '../hypr-command.js';
import { checkTty } from '../stdio-session.js';
import { attachAndStart } from './run.js';

export default class Attach extends HyprCommand {
  static override summary = 'Attach local standard input, output, and error streams to a running container';
  static override usage = 'attach [OPTIONS] CONTAINER';
  static override args = { container: Args.string({ required: true }) };
  static override flags = {
    'no-stdin': Flags.boolean({ summary: 'Do not attach STDIN' }),
    'sig-proxy': Flags.boolean({ summary: 'Proxy all received signals to the process', default: true, allowNo: true }),
    'detach-keys': Flags.string({ summary: 'Accepted for compatibility' }),
  };

  async run(): Promise<number> {
    const { flags, args } = await this.parseArgs<{ 'no-stdin': boolean; 'sig-proxy': boolean }, { container: string }>(
      Attach,
    );
    const info = JSON.parse((await this.client.containers.inspect({ id: args.container })).json);
    const tty = Boolean(info.Config.Tty);
    const interactive = !flags['no-stdin'] && Boolean(info.Config.OpenStdin);
    checkTty(interactive, tty);
    const code = await attachAndStart(this, args.container, {
      start: false,
      sigProxy: flags['sig-proxy'] && !tty,
      interactive,
      tty,
    });
    return this.exit(code) as never;
  }
}
