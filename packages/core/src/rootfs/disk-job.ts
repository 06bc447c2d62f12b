import { join } from 'node:path';
// The defining modules, not image/index.js: image/pull-disks.ts (the pull process) imports this file.
import type { ImageRecord } from '../image/image-store.js';
import type { UnpackLimits } from '../image/unpack-limits.js';
import type { RootfsDiskFormat } from './ext4.js';

export interface RootfsDisk {
  path: string;
  format: RootfsDiskFormat;
  /** The cache key: a hash of the chain of layer diff ids and the format. */
  key: string;
  sizeBytes: number;
  /** True when the disk was already there (nothing was unpacked). */
  cached: boolean;
}

/** What a disk build needs, all of it plain data (it crosses into a worker thread). */
export interface RootfsDiskJob {
  /** The image store's root (blobs are read from under it). */
  storeRoot: string;
  image: ImageRecord;
  format: RootfsDiskFormat;
  /** The cache directory the disk is written to. */
  dir: string;
  key: string;
  limits?: Partial<UnpackLimits>;
  /** Set: make the disk of this one layer (its index in image.layers), not the flattened image. */
  layer?: number;
  /** A layer's disk: bytes of the image's layers below it, counted against `limits.maxImageBytes`. */
  imageBytesBefore?: number;
}

/** Where a job's disk lives: `<dir>/<key>.<format>`. */
export function rootfsDiskPath(job: Pick<RootfsDiskJob, 'dir' | 'key' | 'format'>): string {
  return join(job.dir, `${job.key}.${job.format}`);
}
