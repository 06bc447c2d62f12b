import { eq } from 'drizzle-orm';
import type { ImageStore } from '../image/image-store.js';
import { MEDIA_TYPES } from '../image/manifest.js';
import { buildCache } from '../state/index.js';
import type { BuiltLayer } from './layers.js';

/**
 * The build cache in the state database: a step's cache key (computeBuildCacheKeys) → the layer
 * it produced, or no layer (a RUN that changed nothing, a WORKDIR that existed). The layer itself
 * is a blob of the image store; an entry whose blob is gone counts as a miss.
 */

export type CachedStep = { layer: BuiltLayer | null };

export async function lookupBuildCache(store: ImageStore, key: string): Promise<CachedStep | undefined> {
  const row = store.state.db.select().from(buildCache).where(eq(buildCache.key, key)).get();
  if (!row) return undefined;
  if (row.layerDigest === null) return { layer: null };
  if (row.diffId === null || !(await store.blobs.hasBlob(row.layerDigest))) return undefined;
  let mediaType: string = MEDIA_TYPES.ociLayerGzip;
  try {
    mediaType = (JSON.parse(row.config ?? '{}') as { mediaType?: string }).mediaType ?? mediaType;
  } catch {
    /* an older row: gzip */
  }
  store.state.db.update(buildCache).set({ lastUsedAt: Date.now() }).where(eq(buildCache.key, key)).run();
  return { layer: { digest: row.layerDigest, diffId: row.diffId, sizeBytes: row.sizeBytes, mediaType } };
}

export function recordBuildCache(store: ImageStore, key: string, layer: BuiltLayer | null): void {
  const now = Date.now();
  const values = {
    layerDigest: layer?.digest ?? null,
    diffId: layer?.diffId ?? null,
    config: JSON.stringify(layer ? { mediaType: layer.mediaType } : {}),
    sizeBytes: layer?.sizeBytes ?? 0,
    lastUsedAt: now,
  };
  store.state.db
    .insert(buildCache)
    .values({ key, createdAt: now, ...values })
    .onConflictDoUpdate({ target: buildCache.key, set: values })
    .run();
}

/** Every layer blob the build cache points at (to keep them from garbage collection). */
export function buildCacheBlobs(store: ImageStore): Set<string> {
  const out = new Set<string>();
  for (const r of store.state.db.select({ d: buildCache.layerDigest }).from(buildCache).all()) if (r.d) out.add(r.d);
  return out;
}

/**
 * `hypr builder prune`: forgets every cache entry and removes the layer blobs that no image uses.
 * Returns the number of entries dropped and the bytes freed.
 */
export async function pruneBuildCache(store: ImageStore): Promise<{ entries: number; freedBytes: number }> {
  const blobs = buildCacheBlobs(store);
  const entries = store.state.db.delete(buildCache).run().changes;
  const keep = store.referencedBlobs();
  let freedBytes = 0;
  for (const d of blobs) {
    if (keep.has(d)) continue;
    freedBytes += (await store.blobs.blobSize(d)) ?? 0;
    await store.blobs.deleteBlob(d);
  }
  return { entries, freedBytes };
}
