/**
 * The disks a container of an image boots from: one read-only disk per layer (shared between images,
 * stacked by Kestrel with overlayfs) when layer disks are on and the image fits, else one flattened
 * disk of the whole image.
 */
import { join } from 'node:path';
import { HyprError } from '../errors.js';
import type { ImageRecord, ImageStore } from '../image/index.js';
import { imageTooLarge, resolveUnpackLimits } from '../image/unpack-limits.js';
import { silentLogger } from '../log.js';
import { type GetRootfsDiskOptions, buildDiskOnce, getRootfsDisk } from './cache.js';
import { type RootfsDisk, rootfsDiskPath } from './disk-job.js';
import { findLayerDisk, fitsLayerDisks, layerDiskJob, layerDisksEnabled } from './layer-disks.js';

export interface ImageRootfs {
  /** Bottom layer first; one disk when flattened. */
  disks: RootfsDisk[];
  /** True: one disk per layer, to stack with overlayfs. */
  layered: boolean;
}

export interface GetImageRootfsOptions extends GetRootfsDiskOptions {
  /** One disk per layer; default: the HYPR_LAYER_DISKS environment switch. */
  layers?: boolean;
}

/**
 * The disk of each of the image's layers, bottom first, made where missing (one at a time). The
 * image's total obeys `maxImageBytes` as a flattened disk's unpack does: the disks below a layer
 * (their size, a little over their content) count as the bytes before it, and a disk made already
 * (for another image sharing the layer) counts too.
 */
export async function getLayerDisks(
  store: ImageStore,
  image: ImageRecord,
  opts: GetRootfsDiskOptions = {},
): Promise<RootfsDisk[]> {
  const cacheDir = opts.cacheDir ?? join(store.root, 'rootfs');
  const disks: RootfsDisk[] = [];
  const { maxImageBytes } = resolveUnpackLimits(opts.limits);
  let imageBytesBefore = 0;
  for (const i of image.layers.keys()) {
    const job = { ...layerDiskJob(store.root, image, i, cacheDir, opts.limits), imageBytesBefore };
    const disk = (await findLayerDisk(rootfsDiskPath(job), job.key)) ?? (await buildDiskOnce(job, opts));
    disks.push(disk);
    imageBytesBefore += disk.sizeBytes;
    if (imageBytesBefore > maxImageBytes) throw imageTooLarge(maxImageBytes, image.layers[i].digest);
  }
  return disks;
}

/**
 * The image's root filesystem as disks. With layers on, an image of more layers than a guest can
 * take as disks, or one a layer disk cannot be made for (a hard link into a lower layer), gets the
 * flattened disk, as with layers off.
 */
export async function getImageRootfs(
  store: ImageStore,
  image: ImageRecord,
  opts: GetImageRootfsOptions = {},
): Promise<ImageRootfs> {
  if ((opts.layers ?? layerDisksEnabled()) && fitsLayerDisks(image)) {
    try {
      return { disks: await getLayerDisks(store, image, opts), layered: true };
    } catch (e) {
      if (opts.signal?.aborted || !(e instanceof HyprError) || e.code !== 'ROOTFS_LAYER_DISK_FAILED') throw e;
      (opts.logger ?? silentLogger).warn({ image: image.digest, err: e.message }, 'one flattened disk instead');
    }
  }
  return { disks: [await getRootfsDisk(store, image, opts)], layered: false };
}
