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
  for await (const m of client.images.pull({ ref, platform: opts.platform ?? '' })) {
    if (m.event.case === 'progress') view?.update(m.event.value);
    else if (m.event.case === 'done') {
      const img = m.event.value;
      if (!opts.quiet) {
        out.write(`Digest: ${img.digest}\n`);
        out.write(`Status: Image is up to date for ${familiarName(img.tags[0] ?? ref)}\n`);
      }
      return { digest: img.digest, id: img.id, tags: img.tags };
    }
  }
  throw new CliError(`the pull of ${ref} ended without a result`, 1, 'see the log of hyprd', 'INTERNAL');
}
