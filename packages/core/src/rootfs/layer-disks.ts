/**
 * One read-only disk per image layer, keyed by the layer's diff id, so images sharing a base share
 * its disk (issue #19). Kestrel stacks them with overlayfs (guest/PROTOCOL.md, key `R`). Each disk
 * holds one layer alone, its whiteouts as overlayfs ones: a 0/0 character device for a deleted path,
 * `trusted.overlay.opaque=y` on a directory that hides what lower layers hold.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
// Narrow imports, not image/index.js: the pull process loads this file, and the image index brings
// the state database with it (6 MiB of resident memory the pull process does not use), and an import
// cycle (image/pull-disks.ts imports this file).
import type { ImageRecord, ImageStore } from '../image/image-store.js';
import { BlobStore } from '../image/store.js';
import type { TarEntry } from '../image/tar-reader.js';
import {
  OPAQUE,
  UnsafeLayerError,
  WHITEOUT,
  inLayer,
  linkTargetParts,
  readLayerEntries,
  splitEntryPath,
} from '../image/unpack.js';
import type { Logger } from '../log.js';
import { type RootfsDisk, type RootfsDiskJob, rootfsDiskPath } from './disk-job.js';
import { Ext4Writer, Ext4WriterError } from './ext4-writer.js';
import { syncAndRename } from './ext4.js';

/** Bump when the way layer disks are made changes, so old ones are not reused. */
const LAYER_DISK_VERSION = 'hypr-layer-v2';

/** Virtio-mmio transports of QEMU's microvm: every disk, share, NIC, the channels and the balloon take one. */
export const MICROVM_VIRTIO_TRANSPORTS = 24;

/**
 * Layers a guest gets as disks of their own; an image with more gets one flattened disk. The other
 * 8 transports serve the channels, the balloon, the writable layer, NICs and shared directories.
 */
export const MAX_LAYER_DISKS = 16;

/** Layer disks are the default; `HYPR_LAYER_DISKS=0` in hyprd's environment gives every image one flattened disk. */
export function layerDisksEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.HYPR_LAYER_DISKS !== '0' && env.HYPR_LAYER_DISKS !== 'false';
}

/** The cache key of one layer's disk. */
export function layerDiskKey(diffId: string): string {
  return createHash('sha256').update(`${LAYER_DISK_VERSION}\next4\n${diffId}`).digest('hex');
}

/** The job making the disk of the image's layer `index` (it crosses into a worker thread). */
export function layerDiskJob(
  storeRoot: string,
  image: ImageRecord,
  index: number,
  cacheDir: string,
  limits?: RootfsDiskJob['limits'],
): RootfsDiskJob {
  return {
    storeRoot,
    image,
    format: 'ext4',
    dir: cacheDir, // beside the flattened disks: the key's hash names what a file is
    key: layerDiskKey(image.config.rootfs.diff_ids[index]),
    limits,
    layer: index,
  };
}

/** The layer's disk when it is made already (its use time refreshed for pruning), else undefined. */
export async function findLayerDisk(path: string, key: string): Promise<RootfsDisk | undefined> {
  const st = await stat(path).catch(() => undefined);
  if (!st) return undefined;
  const now = new Date();
  await utimes(path, now, now).catch(() => {});
  return { path, format: 'ext4', key, sizeBytes: st.size, cached: true };
}

/** What making one layer's disk needs: plain data, no image record (the pull process has none yet). */
export interface LayerDiskSpec {
  /** The image store's root: the layer's blob is read from under it when no `source` is given. */
  storeRoot: string;
  /** The cache directory the disk goes in, and its key (layerDiskKey of the diff id). */
  dir: string;
  key: string;
  /** The layer's blob digest (errors name it) and diff id (its uncompressed tar must hash to it). */
  digest: string;
  diffId: string;
  limits?: RootfsDiskJob['limits'];
  imageBytesBefore?: number;
}

/**
 * Makes one layer's disk in one pass over the layer's tar: each entry goes straight into an ext4
 * image (Ext4Writer: no scratch tree, no mkfs), whiteouts as overlayfs ones; then the image is
 * fsynced and renamed into place (a half-made disk is never picked up). Reads the stored blob, or
 * `source`: the layer's bytes as they download (the pull process). Its uncompressed tar must hash
 * to the diff id that names the disk.
 */
export async function makeLayerDisk(
  spec: LayerDiskSpec,
  opts: { source?: AsyncIterable<Uint8Array>; signal?: AbortSignal } = {},
): Promise<RootfsDisk> {
  const path = rootfsDiskPath({ ...spec, format: 'ext4' });
  await mkdir(spec.dir, { recursive: true });
  const tmp = join(spec.dir, `.${spec.key}.${randomBytes(4).toString('hex')}.tmp`);
  const disk = await Ext4Writer.create(tmp, { label: 'hypr-layer' });
  try {
    const layer = readLayerEntries(opts.source ?? new BlobStore(spec.storeRoot).openBlob(spec.digest), {
      limits: spec.limits,
      layerName: spec.digest,
      diffId: spec.diffId,
      imageBytesBefore: spec.imageBytesBefore,
    });
    try {
      for await (const entry of layer.entries) {
        opts.signal?.throwIfAborted();
        await writeEntry(disk, entry);
      }
      layer.verify();
    } catch (e) {
      throw inLayer(e, spec.digest);
    }
    const { sizeBytes } = await disk.finish();
    await syncAndRename(tmp, path);
    return { path, format: 'ext4', key: spec.key, sizeBytes, cached: false };
  } finally {
    await disk.abort();
  }
}

/** One tar entry of a layer into its disk; what a layer alone cannot hold falls back to a flattened disk. */
async function writeEntry(disk: Ext4Writer, { header, body }: TarEntry): Promise<void> {
  const parts = splitEntryPath(header.path);
  const meta = { mode: header.mode & 0o7777, uid: header.uid, gid: header.gid, mtime: header.mtime };
  if (parts.length === 0) return; // the root itself: the disk's root is 0755 root's, as the flattened disk's
  const name = parts[parts.length - 1];
  const dir = parts.slice(0, -1);
  if (name === OPAQUE) return disk.opaque(dir, header.mtime);
  if (name.startsWith(WHITEOUT)) {
    if (name.startsWith(`${WHITEOUT}${WHITEOUT}`)) return; // other aufs metadata
    const target = name.slice(WHITEOUT.length);
    // `.wh.`, `.wh..` and `.wh...` would hide the directory itself or its parent.
    if (target === '' || target === '.' || target === '..')
      throw new UnsafeLayerError(header.path, `is a whiteout of "${target}"`);
    return disk.whiteout([...dir, target], header.mtime);
  }
  switch (header.type) {
    case 'directory':
      return disk.mkdir(parts, meta);
    case 'file': {
      const sink = disk.addFile(parts, meta, header.sizeBytes);
      for await (const chunk of body) sink.write(chunk);
      return sink.end();
    }
    case 'symlink':
      return disk.symlink(parts, header.linkpath, meta);
    case 'link': {
      const target = linkTargetParts(header);
      try {
        return disk.hardlink(parts, target);
      } catch (e) {
        // A hard link to a file of a lower layer has no target in this layer alone: the writer's
        // error (ROOTFS_LAYER_DISK_FAILED) gives the image a flattened disk. One to a directory is hostile.
        if (e instanceof Ext4WriterError && e.reason === 'directory')
          throw new UnsafeLayerError(header.path, 'is a hard link to a directory');
        throw e;
      }
    }
    case 'char':
    case 'block':
      // An inode in the disk, not a node on the host: no privilege needed, and the guest is its own machine.
      return disk.device(parts, header.type, header.devmajor, header.devminor, meta);
    case 'fifo':
      return disk.fifo(parts, meta);
    default:
      // Unknown entry types are skipped, as the unpack into a tree skips them.
      return;
  }
}

/** Makes the disk of the job's layer (`job.layer`) from its stored blob; runs in a worker thread as well. */
export function buildLayerDisk(
  job: RootfsDiskJob,
  opts: { signal?: AbortSignal; logger?: Logger } = {},
): Promise<RootfsDisk> {
  const index = job.layer ?? 0;
  return makeLayerDisk(
    {
      storeRoot: job.storeRoot,
      dir: job.dir,
      key: job.key,
      digest: job.image.layers[index].digest,
      diffId: job.image.config.rootfs.diff_ids[index],
      limits: job.limits,
      imageBytesBefore: job.imageBytesBefore,
    },
    { signal: opts.signal },
  );
}

/** Whether an image's layers can be disks of their own (else it gets one flattened disk). */
export function fitsLayerDisks(image: ImageRecord): boolean {
  return image.layers.length > 0 && image.layers.length <= MAX_LAYER_DISKS;
}

/** The keys (file names) of every layer disk the store's images use, for pruning. */
export function layerDiskNames(store: ImageStore): Set<string> {
  const keep = new Set<string>();
  for (const img of store.listImages()) for (const d of img.config.rootfs.diff_ids) keep.add(`${layerDiskKey(d)}.ext4`);
  return keep;
}
