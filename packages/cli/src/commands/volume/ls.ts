import type { Volume } from '@hypr/api';
import { Flags } from '@oclif/core';
import { renderColumns } from '../../format/table.js';
import { TemplateError, renderTemplate } from '../../format/template.js';
import { CliError, HyprCommand } from '../../hypr-command.js';

export default class VolumeLs extends HyprCommand {
  static override summary = 'List volumes';
  static override usage = 'volume ls [OPTIONS]';
  static override aliases = ['volume:list'];
  static override enableJsonFlag = true;
  static override flags = {
    quiet: Flags.boolean({ char: 'q', summary: 'Only display volume names' }),
    filter: Flags.string({
      char: 'f',
      summary: 'Provide filter values (name=…, label=…, dangling=true|false, driver=local)',
      multiple: true,
      multipleNonGreedy: true,
    }),
    format: Flags.string({ summary: 'Format output using a custom template' }),
  };

  async run(): Promise<Volume[]> {
    const { flags } = await this.parseArgs<
      { quiet: boolean; filter?: string[]; format?: string },
      Record<string, never>
    >(VolumeLs);
    const { volumes } = await this.client.volumes.list({ filters: flags.filter ?? [] });
    if (this.jsonEnabled()) return volumes;
    if (flags.quiet) {
      for (const v of volumes) this.out(v.name);
    } else if (flags.format) {
      try {
        for (const v of volumes)
          this.out(
            renderTemplate(flags.format, { Name: v.name, Driver: v.driver, Mountpoint: v.mountpoint, Scope: 'local' }),
          );
      } catch (e) {
        if (e instanceof TemplateError) throw new CliError(e.message, 1);
        throw e;
      }
    } else {
      this.out(renderColumns([['DRIVER', 'VOLUME NAME'], ...volumes.map((v) => [v.driver, v.name])]));
    }
    return volumes;
  }
}
