import type { HyprClient } from '@hypr/api';
import { CliError } from './errors.js';
import { familiarName } from './format/names.js';
import { ProgressView } from './progress.js';

/** Pulls `ref` through the daemon, drawing progress on `out`. Returns the image's manifest digest. */
export async function pullWithProgress(
  client: HyprClient,
  ref: string,
  opts: { platform?: string; out?: NodeJS.WriteStream; quiet?: boolean } = {},
): Promise<{ digest: string; id: string; tags: string[] }> {
  const out = opts.out ?? process.stdout;
  const view = opts.quiet ? undefined : new ProgressView(out);
  if (!opts.quiet) out.write(`Pulling ${ref}\n`);
  // As docker: "Downloaded newer image" when a blob came over the wire, "Image is up to date" when all were here.
  let downloaded = false;
  for await (const m of client.images.pull({ ref, platform: opts.platform ?? '' })) {
    if (m.event.case === 'progress') {
      const { kind, status } = m.event.value;
      if (kind === 'layer' && (status === 'downloading' || status === 'done')) downloaded = true;
      view?.update(m.event.value);
    } else if (m.event.case === 'done') {
      const img = m.event.value;
      if (!opts.quiet) {
        const name = familiarName(img.tags[0] ?? ref);
        out.write(`Digest: ${img.digest}\n`);
        out.write(
          downloaded ? `Status: Downloaded newer image for ${name}\n` : `Status: Image is up to date for ${name}\n`,
        );
      }
      return { digest: img.digest, id: img.id, tags: img.tags };
    }
  }
  throw new CliError(`the pull of ${ref} ended without a result`, 1, 'see the log of hyprd', 'INTERNAL');
}
