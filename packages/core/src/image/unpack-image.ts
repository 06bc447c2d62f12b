import { mkdir } from 'node:fs/promises';
import type { ImageRecord, ImageStore } from './image-store.js';
import { LayerUnpacker, type UnpackOptions, type UnpackStats } from './unpack.js';

/**
 * Unpacks every layer of a stored image, in order, into `dir` (created if missing), checking each
 * layer against its diff id from the image config.
 */
export async function unpackImage(
  store: ImageStore,
  image: ImageRecord,
  dir: string,
  opts: Omit<UnpackOptions, 'diffId'> = {},
): Promise<UnpackStats[]> {
  await mkdir(dir, { recursive: true });
  const stats: UnpackStats[] = [];
  for (const [i, layer] of image.layers.entries()) {
    opts.signal?.throwIfAborted();
    const unpacker = new LayerUnpacker(dir, { ...opts, diffId: image.config.rootfs.diff_ids[i] });
    stats.push(await unpacker.unpackLayer(store.blobs.openBlob(layer.digest)));
  }
  return stats;
}
