import { mkdir } from 'node:fs/promises';
import type { ImageRecord, ImageStore } from './image-store.js';
import { resolveUnpackLimits } from './unpack-limits.js';
import { LayerUnpacker, type UnpackOptions, type UnpackStats } from './unpack.js';

/**
 * Unpacks every layer of a stored image, in order, into `dir` (created if missing), checking each
 * layer against its diff id from the image config and the image against the expansion limits.
 */
export async function unpackImage(
  store: ImageStore,
  image: ImageRecord,
  dir: string,
  opts: Omit<UnpackOptions, 'diffId' | 'layerName' | 'imageBytesBefore'> = {},
): Promise<UnpackStats[]> {
  await mkdir(dir, { recursive: true });
  const stats: UnpackStats[] = [];
  const limits = resolveUnpackLimits(opts.limits);
  let imageBytesBefore = 0;
  for (const [i, layer] of image.layers.entries()) {
    opts.signal?.throwIfAborted();
    const unpacker = new LayerUnpacker(dir, {
      ...opts,
      limits,
      layerName: layer.digest,
      imageBytesBefore,
      diffId: image.config.rootfs.diff_ids[i],
    });
    const s = await unpacker.unpackLayer(store.blobs.openBlob(layer.digest));
    imageBytesBefore += s.tarBytes;
    stats.push(s);
  }
  return stats;
}
