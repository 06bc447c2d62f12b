import { Code, ConnectError } from '@connectrpc/connect';
import { Flags } from '@oclif/core';
import { renderTemplate } from '../format/template.js';
import { CliError, HyprCommand, isDaemonUnreachable } from '../hypr-command.js';

export default class Inspect extends HyprCommand {
  static override summary = 'Return low-level information on containers or images';
  static override usage = 'inspect [OPTIONS] NAME|ID [NAME|ID...]';
  static override strict = false;
  static override flags = {
    format: Flags.string({ char: 'f', summary: 'Format output using a custom template' }),
    type: Flags.string({ summary: 'Only inspect objects of the given type', options: ['container', 'image'] }),
    size: Flags.boolean({ char: 's', summary: 'Display total file sizes' }),
  };
  /** The only type `container inspect` and `image inspect` look for. */
  static objectType?: 'container' | 'image';

  private async one(name: string, type?: string): Promise<unknown> {
    if (type !== 'image') {
      try {
        return JSON.parse((await this.client.containers.inspect({ id: name })).json);
      } catch (e) {
        if (isDaemonUnreachable(e) || !(e instanceof ConnectError && e.code === Code.NotFound) || type === 'container')
          throw e;
      }
    }
    const { images } = await this.client.images.list({ reference: name });
    if (!images.length)
      throw new CliError(`No such ${type === 'image' ? 'image' : 'object'}: ${name}`, 1, undefined, 'IMAGE_NOT_FOUND');
    const img = images[0];
    const config = JSON.parse(img.configJson);
    return {
      Id: img.id,
      RepoTags: img.tags,
      RepoDigests: img.tags.map((t) => `${t.replace(/:[^:/]+$/, '')}@${img.digest}`),
      Created: config.created ?? '',
      Config: config.config ?? {},
      Architecture: config.architecture,
      Os: config.os,
      Size: Number(img.sizeBytes),
      RootFS: config.rootfs,
    };
  }

  async run(): Promise<unknown[]> {
    const { flags, argv } = await this.parseArgs<{ format?: string; type?: string }, Record<string, never>>(Inspect);
    const type = flags.type ?? (this.constructor as typeof Inspect).objectType;
    const noun = type ?? 'object';
    if (!argv.length) throw new CliError('"hypr inspect" requires at least 1 argument.', 1);
    const docs: unknown[] = [];
    let failed = false;
    for (const name of argv) {
      try {
        docs.push(await this.one(name, type));
      } catch (e) {
        if (isDaemonUnreachable(e)) throw e;
        failed = true;
        process.stderr.write(
          `hypr: Error: No such ${noun}: ${name}${e instanceof CliError || e instanceof ConnectError ? '' : ` (${(e as Error).message})`}\n`,
        );
      }
    }
    if (flags.format) {
      // inspect documents are maps: a missing key prints <no value>, as docker's raw-JSON fallback does
      for (const d of docs) this.out(renderTemplate(flags.format, d, { missingKey: 'zero' }));
    } else {
      this.out(JSON.stringify(docs, null, 4));
    }
    if (failed) this.exit(1);
    return docs;
  }
}
