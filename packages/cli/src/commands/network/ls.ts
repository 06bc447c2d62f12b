import type { NetworkSummary } from '@hypr/api';
import { Flags } from '@oclif/core';
import { renderColumns } from '../../format/table.js';
import { TemplateError, renderTemplate } from '../../format/template.js';
import { CliError, HyprCommand } from '../../hypr-command.js';

export default class NetworkLs extends HyprCommand {
  static override summary = 'List networks';
  static override usage = 'network ls [OPTIONS]';
  static override aliases = ['network:list'];
  static override enableJsonFlag = true;
  static override flags = {
    quiet: Flags.boolean({ char: 'q', summary: 'Only display network IDs' }),
    filter: Flags.string({
      char: 'f',
      summary: 'Provide filter values (name=…, id=…, label=…, driver=bridge)',
      multiple: true,
      multipleNonGreedy: true,
    }),
    format: Flags.string({ summary: 'Format output using a custom template' }),
    'no-trunc': Flags.boolean({ summary: 'Do not truncate the output' }),
  };

  async run(): Promise<NetworkSummary[]> {
    const { flags } = await this.parseArgs<
      { quiet: boolean; filter?: string[]; format?: string; 'no-trunc': boolean },
      Record<string, never>
    >(NetworkLs);
    const { networks } = await this.client.networks.list({ filters: flags.filter ?? [] });
    if (this.jsonEnabled()) return networks;
    const id = (n: NetworkSummary) => (flags['no-trunc'] ? n.id : n.id.slice(0, 12));
    if (flags.quiet) {
      for (const n of networks) this.out(id(n));
    } else if (flags.format) {
      try {
        for (const n of networks)
          this.out(
            renderTemplate(flags.format, {
              ID: id(n),
              Name: n.name,
              Driver: n.driver,
              Scope: 'local',
              Internal: String(n.internal),
              IPv6: 'false',
              Labels: Object.entries(n.labels)
                .map(([k, v]) => `${k}=${v}`)
                .join(','),
            }),
          );
      } catch (e) {
        if (e instanceof TemplateError) throw new CliError(e.message, 1);
        throw e;
      }
    } else {
      this.out(
        renderColumns([
          ['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'],
          ...networks.map((n) => [id(n), n.name, n.driver, 'local']),
        ]),
      );
    }
    return networks;
  }
}
