/**
 * `-o type=local|tar`: the final stage's filesystem (the image's layers applied in order) as one tar
 * stream, which the CLI writes where the caller said. hyprd writes only into its own work
 * directory, removed when the stream ends or fails.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type ImageRecord, type ImageStore, unpackImage } from '@hypr/core';
import { create } from 'tar';

export async function* exportImageTar(
  store: ImageStore,
  image: ImageRecord,
  work: string,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  try {
    const root = join(work, 'export');
    await unpackImage(store, image, root, { signal });
    const entries = (await readdir(root)).sort();
    if (!entries.length) return;
    const pack = create({ cwd: root, portable: false, preservePaths: false }, entries);
    for await (const chunk of pack as AsyncIterable<Buffer>) {
      signal?.throwIfAborted();
      yield chunk;
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
