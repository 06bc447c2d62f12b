import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { type ImageRecord, type ImageStore, type UnpackLimits, unpackImage } from '../image/index.js';
import { type Logger, silentLogger } from '../log.js';
import { type RootfsDiskFormat, createRootfsDisk } from './ext4.js';

/** Bump when the way disks are made changes, so old cached disks are not reused. */
const DISK_VERSION = 'hypr-rootfs-v1';

export interface RootfsDisk {
  path: string;
  format: RootfsDiskFormat;
  /** The cache key: a hash of the chain of layer diff ids and the format. */
  key: string;
  sizeBytes: number;
  /** True when the disk was already there (nothing was unpacked). */
  cached: boolean;
}

export interface GetRootfsDiskOptions {
  format?: RootfsDiskFormat;
  /** Where disks are cached. Default `<store root>/rootfs`. */
  cacheDir?: string;
  /** Expansion limits for the unpack (decompression bombs); default from the environment or built in. */
  limits?: Partial<UnpackLimits>;
  signal?: AbortSignal;
  logger?: Logger;
}

/** The cache key of an image's disk: images sharing all layers share a disk. */
export function rootfsCacheKey(diffIds: readonly string[], format: RootfsDiskFormat = 'ext4'): string {
  return createHash('sha256')
    .update(`${DISK_VERSION}\n${format}\n${diffIds.join('\n')}`)
    .digest('hex');
}

/**
 * The read-only root filesystem disk of an image, made on first use (unpack all layers, then
 * mkfs) and reused after: the second `run` of an image does no unpacking. Disks are written to a
 * temp name, fsynced and renamed, so a half-made disk is never picked up.
 */
export async function getRootfsDisk(
  store: ImageStore,
  image: ImageRecord,
  opts: GetRootfsDiskOptions = {},
): Promise<RootfsDisk> {
  const format = opts.format ?? 'ext4';
  const dir = opts.cacheDir ?? join(store.root, 'rootfs');
  const key = rootfsCacheKey(image.config.rootfs.diff_ids, format);
  const path = join(dir, `${key}.${format}`);
  const log = (opts.logger ?? silentLogger).child({ op: 'rootfs', image: image.digest, key: key.slice(0, 12) });
  const existing = await stat(path).catch(() => undefined);
  if (existing) {
    const now = new Date();
    await utimes(path, now, now).catch(() => {}); // for least-recently-used pruning
    return { path, format, key, sizeBytes: existing.size, cached: true };
  }
  await mkdir(dir, { recursive: true });
  const work = await mkdtemp(join(dir, '.build-'));
  try {
    const tree = join(work, 'tree');
    const started = Date.now();
    await unpackImage(store, image, tree, { limits: opts.limits, signal: opts.signal, logger: opts.logger });
    const unpackedMs = Date.now() - started;
    const tmp = join(dir, `.${key}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      const { sizeBytes } = await createRootfsDisk(tree, tmp, format, { signal: opts.signal, logger: opts.logger });
      const fh = await open(tmp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
      log.debug({ unpackedMs, totalMs: Date.now() - started, sizeBytes }, 'rootfs disk made');
      return { path, format, key, sizeBytes, cached: false };
    } finally {
      await rm(tmp, { force: true });
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Removes cached disks that no stored image uses any more (and builds left by a killed process). */
export async function pruneRootfsCache(store: ImageStore, opts: { cacheDir?: string } = {}): Promise<string[]> {
  const dir = opts.cacheDir ?? join(store.root, 'rootfs');
  const keep = new Set<string>();
  for (const img of store.listImages()) {
    for (const f of ['ext4', 'erofs'] as const) keep.add(`${rootfsCacheKey(img.config.rootfs.diff_ids, f)}.${f}`);
  }
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
