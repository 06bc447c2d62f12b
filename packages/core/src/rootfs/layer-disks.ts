/**
 * One read-only disk per image layer, keyed by the layer's diff id, so images sharing a base share
 * its disk (issue #19). Kestrel stacks them with overlayfs (guest/PROTOCOL.md, key `R`). Each disk
 * holds one layer alone, its whiteouts as overlayfs ones: a 0/0 character device for a deleted path,
 * `trusted.overlay.opaque=y` on a directory that hides what lower layers hold.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { HyprError } from '../errors.js';
// Narrow imports, not image/index.js: the pull process loads this file, and the image index brings
// the state database with it (6 MiB of resident memory the pull process does not use), and an import
// cycle (image/pull-disks.ts imports this file).
import type { ImageRecord, ImageStore } from '../image/image-store.js';
import { BlobStore } from '../image/store.js';
import { LayerUnpacker } from '../image/unpack.js';
import type { Logger } from '../log.js';
import { runCommand } from '../process.js';
import { type RootfsDisk, type RootfsDiskJob, rootfsDiskPath } from './disk-job.js';
import { createExt4Image, syncAndRename } from './ext4.js';

/** Bump when the way layer disks are made changes, so old ones are not reused. */
const LAYER_DISK_VERSION = 'hypr-layer-v1';

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

/** debugfs takes a double-quoted argument with no way to escape a quote or a newline in it. */
function quoted(path: string): string {
  if (/["\n\\]/.test(path))
    throw new HyprError(
      'ROOTFS_LAYER_DISK_FAILED',
      `the path "${path}" cannot be written by debugfs`,
      'the image gets one flattened disk instead',
    );
  return `"${path}"`;
}

/**
 * Writes the layer's whiteouts into its finished disk with debugfs (no root, no mount needed):
 * mknod of a 0/0 character device, and the opaque xattr. debugfs reports a failed command on
 * stderr but exits 0, so any line there other than its banner is an error.
 */
async function writeOverlayWhiteouts(
  disk: string,
  work: string,
  whiteouts: readonly string[],
  opaque: readonly string[],
): Promise<void> {
  if (!whiteouts.length && !opaque.length) return;
  const cmds: string[] = [];
  for (const p of whiteouts) {
    // debugfs's mknod makes its name in the current directory: a path would be taken as a name.
    const dir = dirname(p);
    cmds.push(
      `cd ${quoted(dir === '.' ? '/' : `/${dir}`)}`,
      `mknod ${quoted(p.slice(dir === '.' ? 0 : dir.length + 1))} c 0 0`,
    );
  }
  for (const d of opaque) cmds.push(`ea_set ${quoted(`/${d}`)} trusted.overlay.opaque y`);
  const file = join(work, 'whiteouts.debugfs');
  await writeFile(file, `${cmds.join('\n')}\n`);
  const { stderr } = await runCommand('debugfs', ['-w', '-f', file, disk], { packageHint: 'e2fsprogs' });
  const errors = stderr.split('\n').filter((l) => l.trim() && !l.startsWith('debugfs '));
  if (errors.length)
    throw new HyprError(
      'ROOTFS_LAYER_DISK_FAILED',
      `debugfs could not write the whiteouts into ${disk}: ${errors.slice(0, 3).join('; ')}`,
      'the image gets one flattened disk instead',
    );
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
 * Makes one layer's disk: unpacks the layer alone into a scratch tree, makes an ext4 image of it,
 * writes its whiteouts, fsyncs and renames it into place (a half-made disk is never picked up).
 * Reads the stored blob, or `source`: the layer's bytes as they download (the pull process). Its
 * uncompressed tar must hash to the diff id that names the disk.
 */
export async function makeLayerDisk(
  spec: LayerDiskSpec,
  opts: { source?: AsyncIterable<Uint8Array>; signal?: AbortSignal; logger?: Logger } = {},
): Promise<RootfsDisk> {
  const path = rootfsDiskPath({ ...spec, format: 'ext4' });
  await mkdir(spec.dir, { recursive: true });
  const work = await mkdtemp(join(spec.dir, '.build-'));
  try {
    const tree = join(work, 'tree');
    await mkdir(tree);
    const stats = await new LayerUnpacker(tree, {
      limits: spec.limits,
      layerName: spec.digest,
      diffId: spec.diffId,
      imageBytesBefore: spec.imageBytesBefore,
      whiteouts: 'record',
      signal: opts.signal,
      logger: opts.logger,
    })
      .unpackLayer(opts.source ?? new BlobStore(spec.storeRoot).openBlob(spec.digest))
      .catch((e: unknown) => {
        // A hard link to a file of a lower layer has no target in this layer alone.
        if (!(e instanceof HyprError) || e.code !== 'IMAGE_LAYER_INVALID') throw e;
        throw new HyprError('ROOTFS_LAYER_DISK_FAILED', e.message, 'the image gets one flattened disk instead', {
          cause: e,
        });
      });
    const tmp = join(spec.dir, `.${spec.key}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      const { sizeBytes } = await createExt4Image(tree, tmp, {
        fileBytes: stats.bytes,
        extraInodes: stats.whiteouts,
        signal: opts.signal,
      });
      await writeOverlayWhiteouts(tmp, work, stats.whiteoutPaths ?? [], stats.opaqueDirs ?? []);
      await syncAndRename(tmp, path);
      return { path, format: 'ext4', key: spec.key, sizeBytes, cached: false };
    } finally {
      await rm(tmp, { force: true });
    }
  } finally {
    await rm(work, { recursive: true, force: true });
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
    opts,
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
