import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { BlobStore, type ImageRecord, type ImageStore, type UnpackLimits, unpackImage } from '../image/index.js';
import { type Logger, silentLogger } from '../log.js';
import { type RootfsDisk, type RootfsDiskJob, rootfsDiskPath } from './disk-job.js';
import { buildDiskInWorker, diskWorkerAvailable } from './disk-worker-client.js';
import { type RootfsDiskFormat, createRootfsDisk, syncAndRename } from './ext4.js';
import { buildLayerDisk, layerDiskNames } from './layer-disks.js';

/** Bump when the way disks are made changes, so old cached disks are not reused. */
const DISK_VERSION = 'hypr-rootfs-v1';

export interface GetRootfsDiskOptions {
  format?: RootfsDiskFormat;
  /** Where disks are cached. Default `<store root>/rootfs`. */
  cacheDir?: string;
  /** Expansion limits for the unpack (decompression bombs); default from the environment or built in. */
  limits?: Partial<UnpackLimits>;
  /**
   * Unpack and mkfs in a worker thread, off the caller's event loop (hyprd: other API calls keep
   * answering while a large image is made into a disk). Falls back to this thread when the worker
   * script is not there (running from sources).
   */
  worker?: boolean;
  /** Stops this caller's wait; the build itself goes on (another caller may be waiting for it). */
  signal?: AbortSignal;
  logger?: Logger;
}

/** The cache key of an image's disk: images sharing all layers share a disk. */
export function rootfsCacheKey(diffIds: readonly string[], format: RootfsDiskFormat = 'ext4'): string {
  return createHash('sha256')
    .update(`${DISK_VERSION}\n${format}\n${diffIds.join('\n')}`)
    .digest('hex');
}

function diskJob(store: ImageStore, image: ImageRecord, opts: GetRootfsDiskOptions): RootfsDiskJob {
  const format = opts.format ?? 'ext4';
  return {
    storeRoot: store.root,
    image,
    format,
    dir: opts.cacheDir ?? join(store.root, 'rootfs'),
    key: rootfsCacheKey(image.config.rootfs.diff_ids, format),
    limits: opts.limits,
  };
}

/** The image's disk when it is already made (its use time refreshed for pruning), else undefined. */
export async function findRootfsDisk(
  store: ImageStore,
  image: ImageRecord,
  opts: Pick<GetRootfsDiskOptions, 'format' | 'cacheDir'> = {},
): Promise<RootfsDisk | undefined> {
  const job = diskJob(store, image, opts);
  const path = rootfsDiskPath(job);
  const existing = await stat(path).catch(() => undefined);
  if (!existing) return undefined;
  const now = new Date();
  await utimes(path, now, now).catch(() => {}); // for least-recently-used pruning
  return { path, format: job.format, key: job.key, sizeBytes: existing.size, cached: true };
}

/** Builds under way in this process, by disk path: a pull and a run of the same image share one. */
const building = new Map<string, Promise<RootfsDisk>>();

/**
 * The read-only root filesystem disk of an image, made on first use (unpack all layers, then
 * mkfs) and reused after: the second `run` of an image does no unpacking. hyprd asks for it as
 * soon as an image is stored (pull, load, build), so the first `run` finds it made. Calls for
 * the same disk while it is being made wait for that one build.
 */
export async function getRootfsDisk(
  store: ImageStore,
  image: ImageRecord,
  opts: GetRootfsDiskOptions = {},
): Promise<RootfsDisk> {
  const found = await findRootfsDisk(store, image, opts);
  if (found) return found;
  return buildDiskOnce(diskJob(store, image, opts), opts);
}

/**
 * Makes the disk of `job` (a flattened image or one layer), in a worker thread when asked; callers
 * asking for the same disk while it is being made wait for that one build.
 */
export function buildDiskOnce(
  job: RootfsDiskJob,
  opts: Pick<GetRootfsDiskOptions, 'worker' | 'signal' | 'logger'> = {},
): Promise<RootfsDisk> {
  const path = rootfsDiskPath(job);
  let pending = building.get(path);
  if (!pending) {
    const log = (opts.logger ?? silentLogger).child({
      op: job.layer === undefined ? 'rootfs' : 'layer-disk',
      image: job.image.digest,
      key: job.key.slice(0, 12),
    });
    const started = Date.now();
    const inWorker = opts.worker === true && diskWorkerAvailable();
    const build = job.layer === undefined ? buildRootfsDisk : buildLayerDisk;
    pending = (inWorker ? buildDiskInWorker(job) : build(job, { logger: opts.logger })).then((d) => {
      const layer = job.layer !== undefined;
      log.debug({ totalMs: Date.now() - started, sizeBytes: d.sizeBytes, inWorker, layer }, 'rootfs disk made');
      return d;
    });
    building.set(path, pending);
    pending.then(
      () => building.delete(path),
      () => building.delete(path),
    );
  }
  return opts.signal ? untilAborted(pending, opts.signal) : pending;
}

function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Makes one disk: unpacks the layers into a scratch tree beside the cache, makes the filesystem
 * under a temp name, fsyncs and renames it into place, so a half-made disk is never picked up.
 * Reads only blob files, so it runs as well in a worker thread as in the caller's.
 */
export async function buildRootfsDisk(
  job: RootfsDiskJob,
  opts: { signal?: AbortSignal; logger?: Logger } = {},
): Promise<RootfsDisk> {
  const { image, format, dir, key } = job;
  const path = rootfsDiskPath(job);
  await mkdir(dir, { recursive: true });
  const work = await mkdtemp(join(dir, '.build-'));
  try {
    const tree = join(work, 'tree');
    // unpackImage reads nothing of the store but its blobs: no database in a worker.
    const blobsOnly = { blobs: new BlobStore(job.storeRoot) } as unknown as ImageStore;
    await unpackImage(blobsOnly, image, tree, { limits: job.limits, signal: opts.signal, logger: opts.logger });
    const tmp = join(dir, `.${key}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      const { sizeBytes } = await createRootfsDisk(tree, tmp, format, { signal: opts.signal, logger: opts.logger });
      await syncAndRename(tmp, path);
      return { path, format, key, sizeBytes, cached: false };
    } finally {
      await rm(tmp, { force: true });
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Removes cached disks (flattened and per layer) that no stored image uses any more, and builds left
 * by a killed process: a layer's disk stays while any image has that layer.
 */
export async function pruneRootfsCache(store: ImageStore, opts: { cacheDir?: string } = {}): Promise<string[]> {
  const dir = opts.cacheDir ?? join(store.root, 'rootfs');
  const keep = new Set<string>();
  for (const img of store.listImages()) {
    for (const f of ['ext4', 'erofs'] as const) keep.add(`${rootfsCacheKey(img.config.rootfs.diff_ids, f)}.${f}`);
  }
  for (const name of layerDiskNames(store)) keep.add(name);
  return pruneDir(dir, keep);
}

/** Removes from `dir` what `keep` does not name, and builds left there over an hour ago. */
async function pruneDir(dir: string, keep: ReadonlySet<string>): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const p = join(dir, name);
    if (name.startsWith('.')) {
      const st = await stat(p).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs < 60 * 60 * 1000) continue;
    } else if (keep.has(name)) continue;
    await rm(p, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
