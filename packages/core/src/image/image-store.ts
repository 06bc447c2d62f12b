import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { HyprError } from '../errors.js';
import { type ImageRef, formatImageRef, imageRepositoryName, isDigest, parseImageRef } from '../registry/index.js';
import { type HyprState, containers, imageTags, images } from '../state/index.js';
import type { ImageConfig, ImageDescriptor, ImagePlatform } from './manifest.js';
import { BlobStore } from './store.js';

/** An image as the store knows it: one platform manifest, its config, its layers and its names. */
export interface ImageRecord {
  /** Digest of the platform manifest (what `repo@sha256:…` pins). */
  digest: string;
  mediaType: string;
  /** Docker's "IMAGE ID". */
  configDigest: string;
  config: ImageConfig;
  layers: ImageDescriptor[];
  indexDigest?: string;
  platform: ImagePlatform;
  sizeBytes: number;
  source?: string;
  createdAt: number;
  /** Canonical names (`docker.io/library/busybox:latest`), sorted. */
  tags: string[];
}

export interface AddImageInput {
  digest: string;
  mediaType: string;
  configDigest: string;
  config: ImageConfig;
  layers: ImageDescriptor[];
  indexDigest?: string;
  source?: string;
}

export interface RemoveImageResult {
  untagged: string[];
  /** Set when the image record itself went away (its blobs go at the next garbage collection). */
  deleted?: string;
}

type Row = typeof images.$inferSelect;

/**
 * Images on this machine: blobs in a content-addressed BlobStore under `root`, records (names,
 * digests, configs) in the state database.
 */
export class ImageStore {
  readonly blobs: BlobStore;

  private constructor(
    readonly root: string,
    readonly state: HyprState,
  ) {
    this.blobs = new BlobStore(root);
  }

  /**
   * Opens the store under `root` (usually `resolvePaths().images`) with an open state database. The
   * root is 0700 whatever the umask: image layers can hold secrets baked into a build.
   */
  static async open(root: string, state: HyprState): Promise<ImageStore> {
    await mkdir(root, { recursive: true, mode: 0o700 });
    await chmod(root, 0o700);
    const s = new ImageStore(root, state);
    await s.blobs.init();
    await mkdir(join(root, 'rootfs'), { recursive: true });
    return s;
  }

  /** Records an image and points `names` at it (moving a tag that pointed elsewhere). */
  addImage(input: AddImageInput, names: readonly ImageRef[] = []): ImageRecord {
    const now = Date.now();
    const cfg = input.config;
    const size = input.layers.reduce((n, l) => n + l.size, 0);
    const db = this.state.db;
    db.transaction(() => {
      db.insert(images)
        .values({
          digest: input.digest,
          mediaType: input.mediaType,
          configDigest: input.configDigest,
          config: JSON.stringify(cfg),
          layers: JSON.stringify(input.layers),
          indexDigest: input.indexDigest ?? null,
          os: cfg.os,
          architecture: cfg.architecture,
          variant: cfg.variant ?? null,
          sizeBytes: size,
          source: input.source ?? null,
          createdAt: now,
        })
        .onConflictDoUpdate({
          target: images.digest,
          set: { indexDigest: input.indexDigest ?? null, source: input.source ?? null, lastUsedAt: now },
        })
        .run();
      for (const n of names) this.tagImage(input.digest, n);
    });
    return this.getImage(input.digest)!;
  }

  /** Points the tag of `ref` at the image `digest`. */
  tagImage(digest: string, ref: ImageRef): void {
    if (!ref.tag) return;
    const name = formatImageRef({ registry: ref.registry, repository: ref.repository, tag: ref.tag });
    if (!this.state.db.select({ d: images.digest }).from(images).where(eq(images.digest, digest)).get()) {
      throw new HyprError('IMAGE_NOT_FOUND', `no image ${digest}`);
    }
    this.state.db
      .insert(imageTags)
      .values({ name, repository: imageRepositoryName(ref), tag: ref.tag, digest, updatedAt: Date.now() })
      .onConflictDoUpdate({ target: imageTags.name, set: { digest, updatedAt: Date.now() } })
      .run();
  }

  private toRecord(row: Row): ImageRecord {
    const tags = this.state.db
      .select({ name: imageTags.name })
      .from(imageTags)
      .where(eq(imageTags.digest, row.digest))
      .all()
      .map((t) => t.name)
      .sort();
    return {
      digest: row.digest,
      mediaType: row.mediaType,
      configDigest: row.configDigest,
      config: JSON.parse(row.config) as ImageConfig,
      layers: JSON.parse(row.layers) as ImageDescriptor[],
      indexDigest: row.indexDigest ?? undefined,
      platform: { os: row.os, architecture: row.architecture, ...(row.variant ? { variant: row.variant } : {}) },
      sizeBytes: row.sizeBytes,
      source: row.source ?? undefined,
      createdAt: row.createdAt,
      tags,
    };
  }

  getImage(digest: string): ImageRecord | undefined {
    const row = this.state.db.select().from(images).where(eq(images.digest, digest)).get();
    return row ? this.toRecord(row) : undefined;
  }

  listImages(): ImageRecord[] {
    return this.state.db
      .select()
      .from(images)
      .orderBy(sql`${images.createdAt} desc`)
      .all()
      .map((r) => this.toRecord(r));
  }

  /**
   * Finds an image by name (`busybox`, `127.0.0.1:5000/app:1`), by `name@digest`, by manifest or
   * config digest, or by a unique prefix of at least 4 hex digits of either (docker's short IDs).
   */
  findImage(text: string): ImageRecord | undefined {
    const db = this.state.db;
    const hex = text.replace(/^sha256:/, '');
    if (/^[a-f0-9]{4,64}$/.test(hex)) {
      const rows = db
        .select()
        .from(images)
        .where(
          sql`substr(${images.digest}, 8, ${hex.length}) = ${hex} or substr(${images.configDigest}, 8, ${hex.length}) = ${hex}`,
        )
        .all();
      if (rows.length === 1) return this.toRecord(rows[0]);
      if (rows.length > 1 && hex.length < 64) {
        throw new HyprError('IMAGE_AMBIGUOUS', `"${text}" matches ${rows.length} images`, 'give more digits of the ID');
      }
      if (rows.length > 1) return this.toRecord(rows[0]);
    }
    let ref: ImageRef;
    try {
      ref = parseImageRef(text);
    } catch {
      return undefined;
    }
    if (ref.digest) {
      const row = db.select().from(images).where(eq(images.digest, ref.digest)).get();
      return row ? this.toRecord(row) : undefined;
    }
    const tag = db
      .select()
      .from(imageTags)
      .where(eq(imageTags.name, formatImageRef(ref)))
      .get();
    return tag ? this.getImage(tag.digest) : undefined;
  }

  /** Like findImage, but throws IMAGE_NOT_FOUND with a hint. */
  resolveImage(text: string): ImageRecord {
    const found = this.findImage(text);
    if (!found) throw new HyprError('IMAGE_NOT_FOUND', `no such image: ${text}`, `pull it with \`hypr pull ${text}\``);
    return found;
  }

  /**
   * `rmi`: by name, removes that tag, and the image once no tag is left; by ID, removes the image
   * and all its tags. Refuses an image a container uses unless `force`.
   */
  removeImage(text: string, opts: { force?: boolean } = {}): RemoveImageResult {
    const img = this.resolveImage(text);
    const db = this.state.db;
    const byName = !/^(sha256:)?[a-f0-9]{4,64}$/.test(text) && !text.includes('@');
    const result: RemoveImageResult = { untagged: [] };
    db.transaction(() => {
      let removeRecord = true;
      if (byName) {
        const name = formatImageRef(parseImageRef(text));
        db.delete(imageTags).where(eq(imageTags.name, name)).run();
        result.untagged.push(name);
        removeRecord = img.tags.length <= 1;
      } else if (img.tags.length > 1 && !opts.force) {
        throw new HyprError(
          'IMAGE_HAS_TAGS',
          `image ${img.configDigest.slice(7, 19)} is referenced by several names (${img.tags.join(', ')})`,
          'remove it by name, or pass --force',
        );
      }
      if (!removeRecord) return;
      const users = db
        .select({ id: containers.id })
        .from(containers)
        .where(eq(containers.imageDigest, img.digest))
        .all();
      if (users.length && !opts.force) {
        throw new HyprError(
          'IMAGE_IN_USE',
          `image ${text} is used by container ${users.map((u) => u.id.slice(0, 12)).join(', ')}`,
          'remove the container first, or pass --force to untag it anyway',
        );
      }
      if (users.length) {
        // forced: keep the record so the containers keep their image; only the names go
        for (const t of img.tags) if (!result.untagged.includes(t)) result.untagged.push(t);
        db.delete(imageTags).where(eq(imageTags.digest, img.digest)).run();
        return;
      }
      for (const t of img.tags) if (!result.untagged.includes(t)) result.untagged.push(t);
      db.delete(images).where(eq(images.digest, img.digest)).run();
      result.deleted = img.digest;
    });
    return result;
  }

  /** Every blob an image record still needs: manifests, indexes, configs, layers. */
  referencedBlobs(): Set<string> {
    const keep = new Set<string>();
    for (const r of this.state.db.select().from(images).all()) {
      keep.add(r.digest);
      keep.add(r.configDigest);
      if (r.indexDigest) keep.add(r.indexDigest);
      for (const l of JSON.parse(r.layers) as ImageDescriptor[]) keep.add(l.digest);
    }
    return keep;
  }

  /** Removes blobs no image references (and stale temp files). */
  collectGarbage(opts: { tempMaxAgeMs?: number } = {}): Promise<{ removed: string[]; freedBytes: number }> {
    return this.blobs.collectGarbage(this.referencedBlobs(), opts);
  }
}
