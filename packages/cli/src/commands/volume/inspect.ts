import { Flags } from '@oclif/core';
import { TemplateError, renderTemplate } from '../../format/template.js';
import { CliError, HyprCommand, forEachArg } from '../../hypr-command.js';

export default class VolumeInspect extends HyprCommand {
  static override summary = 'Display detailed information on one or more volumes';
  static override usage = 'volume inspect [OPTIONS] VOLUME [VOLUME...]';
  static override strict = false;
  static override flags = {
    format: Flags.string({ char: 'f', summary: 'Format output using a custom template' }),
  };

  async run(): Promise<unknown[]> {
    const { flags, argv } = await this.parseArgs<{ format?: string }, Record<string, never>>(VolumeInspect);
    if (!argv.length) throw new CliError('"hypr volume inspect" requires at least 1 argument.', 1);
    const { results, failed } = await forEachArg(this, argv, async (name) =>
      JSON.parse((await this.client.volumes.inspect({ name })).json),
    );
    if (flags.format) {
      try {
        for (const d of results) this.out(renderTemplate(flags.format, d));
      } catch (e) {
        if (e instanceof TemplateError) throw new CliError(e.message, 1);
        throw e;
      }
    } else this.out(JSON.stringify(results, null, 4));
    if (failed) this.exit(1);
    return results;
  }
}
