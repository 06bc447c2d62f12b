/**
 * `hypr builder du` and `hypr builder prune`: the build cache (state table `build_cache`, one row
 * per step key → the layer it made) and the layer blobs only the cache keeps alive. A layer an
 * image also uses is "shared": dropping its entry frees nothing.
 */
import { parseDurationMs } from '@hypr/api/units';
import { HyprError, type ImageStore, buildCache } from '@hypr/core';
import { inArray } from 'drizzle-orm';

export interface BuildCacheEntryView {
  key: string;
  layer?: string;
  sizeBytes: number;
  createdAt: number;
  lastUsedAt: number;
  shared: boolean;
}

export interface BuildCacheUsage {
  entries: BuildCacheEntryView[];
  totalBytes: number;
  /** Bytes held only by the cache. */
  reclaimableBytes: number;
}

export interface PruneBuildCacheOptions {
  /** Every entry; otherwise only entries whose layer no image uses (docker: not just dangling ones). */
  all: boolean;
  /** docker's filters; `until=DURATION` is the one the cache has. */
  filters: readonly string[];
  /** Keep the most recently used entries up to this many bytes (0: no such limit). */
  keepStorageBytes: number;
  now?: number;
}

/** Bytes of distinct layers, each counted once. */
function distinctBytes(entries: readonly BuildCacheEntryView[]): number {
  const seen = new Map<string, number>();
  for (const e of entries) if (e.layer) seen.set(e.layer, e.sizeBytes);
  let sum = 0;
  for (const b of seen.values()) sum += b;
  return sum;
}

export function buildCacheUsage(store: ImageStore): BuildCacheUsage {
  const used = store.referencedBlobs();
  const entries = store.state.db
    .select()
    .from(buildCache)
    .all()
    .map(
      (r): BuildCacheEntryView => ({
        key: r.key,
        ...(r.layerDigest ? { layer: r.layerDigest } : {}),
        sizeBytes: r.sizeBytes,
        createdAt: r.createdAt,
        lastUsedAt: r.lastUsedAt || r.createdAt,
        shared: r.layerDigest !== null && used.has(r.layerDigest),
      }),
    )
    .sort((a, b) => b.lastUsedAt - a.lastUsedAt);
  return {
    entries,
    totalBytes: distinctBytes(entries),
    reclaimableBytes: distinctBytes(entries.filter((e) => !e.shared)),
  };
}

function untilCutoff(filters: readonly string[], now: number): number | undefined {
  let cutoff: number | undefined;
  for (const f of filters) {
    const eq = f.indexOf('=');
    const key = eq < 0 ? f : f.slice(0, eq);
    const value = eq < 0 ? '' : f.slice(eq + 1);
    if (key !== 'until')
      throw new HyprError('BUILD_CACHE_FILTER_INVALID', `invalid filter '${f}'`, 'the build cache has until=DURATION');
    const ms = parseDurationMs(value);
    if (ms === undefined)
      throw new HyprError(
        'BUILD_CACHE_FILTER_INVALID',
        `invalid filter '${f}': ${value} is not a duration`,
        'write a duration such as until=24h or until=90m',
      );
    cutoff = now - ms;
  }
  return cutoff;
}

/** Drops cache entries, then deletes the layer blobs nothing else (image or remaining entry) holds. */
export async function pruneBuildCache(
  store: ImageStore,
  opts: PruneBuildCacheOptions,
): Promise<{ entries: number; reclaimedBytes: number; deleted: string[] }> {
  const now = opts.now ?? Date.now();
  const cutoff = untilCutoff(opts.filters, now);
  const { entries } = buildCacheUsage(store);
  const doomed = new Set<string>();
  for (const e of entries) {
    if (!opts.all && e.shared) continue;
    if (cutoff !== undefined && e.lastUsedAt > cutoff) continue;
    doomed.add(e.key);
  }
  if (opts.keepStorageBytes > 0) {
    // Most recently used first: what fits in the budget stays.
    let kept = 0;
    for (const e of entries) {
      if (!doomed.has(e.key) || e.shared) continue;
      if (kept + e.sizeBytes > opts.keepStorageBytes) continue;
      kept += e.sizeBytes;
      doomed.delete(e.key);
    }
  }
  const keys = [...doomed];
  for (let i = 0; i < keys.length; i += 500)
    store.state.db
      .delete(buildCache)
      .where(inArray(buildCache.key, keys.slice(i, i + 500)))
      .run();
  const keep = store.referencedBlobs();
  for (const e of entries) if (!doomed.has(e.key) && e.layer) keep.add(e.layer);
  const deleted: string[] = [];
  let reclaimedBytes = 0;
  for (const e of entries) {
    if (!doomed.has(e.key) || !e.layer || keep.has(e.layer) || deleted.includes(e.layer)) continue;
    reclaimedBytes += (await store.blobs.blobSize(e.layer)) ?? 0;
    await store.blobs.deleteBlob(e.layer);
    deleted.push(e.layer);
  }
  return { entries: keys.length, reclaimedBytes, deleted };
}

/** Every layer blob the build cache points at: image GC keeps them. */
export function buildCacheLayers(store: ImageStore): Set<string> {
  const out = new Set<string>();
  for (const r of store.state.db.select({ d: buildCache.layerDigest }).from(buildCache).all()) if (r.d) out.add(r.d);
  return out;
}
