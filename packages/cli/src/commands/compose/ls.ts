import { Flags } from '@oclif/core';
import { renderColumns } from '../../format/table.js';
import { HyprCommand } from '../../hypr-command.js';

export default class ComposeLs extends HyprCommand {
  static override summary = 'List running compose projects';
  static override usage = 'compose ls [OPTIONS]';
  static override enableJsonFlag = true;
  static override flags = {
    all: Flags.boolean({ char: 'a', summary: 'Show all stopped Compose projects' }),
    quiet: Flags.boolean({ char: 'q', summary: 'Only display project names' }),
  };

  async run(): Promise<{ Name: string; Status: string; ConfigFiles: string }[]> {
    const { flags } = await this.parseArgs<{ all: boolean; quiet: boolean; json?: boolean }, object>(ComposeLs);
    const { stacks } = await this.client.stacks.list({ all: flags.all });
    const result = stacks.map((s) => ({ Name: s.name, Status: s.status, ConfigFiles: s.configFiles.join(',') }));
    if (flags.json) return result;
    if (flags.quiet) for (const s of stacks) this.out(s.name);
    else
      this.out(
        renderColumns([
          ['NAME', 'STATUS', 'CONFIG FILES'],
          ...stacks.map((s) => [s.name, s.status, s.configFiles.join(',')]),
        ]),
      );
    return result;
  }
}
