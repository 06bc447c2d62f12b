// ImageService: decode, call the image manager, encode.
import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import { type ImageService, type ImageSummary, ImageSummarySchema } from '@hypr/api';
import { HyprError, type ImageRecord, parseImageRef } from '@hypr/core';
import { AsyncQueue } from '../async-queue.js';
import type { Orchestrator } from '../containers/index.js';
import { type ImageBuilder, ImageManager, imageHistory, importImage, throttleBlobProgress } from '../images/index.js';
import { createBuildHandlers } from './build.js';

export function toImageSummary(img: ImageRecord, containers = 0): ImageSummary {
  return create(ImageSummarySchema, {
    id: img.configDigest,
    digest: img.digest,
    tags: img.tags,
    sizeBytes: BigInt(img.sizeBytes),
    createdAt: BigInt(Date.parse(img.config.created ?? '') || img.createdAt),
    platform: ImageManager.platformOf(img),
    configJson: JSON.stringify(img.config),
    containers,
  });
}

/** A queue that ends when `done` settles (rethrowing its failure after the queued items). */
function channel<T>() {
  const q = new AsyncQueue<T>();
  return {
    push: (item: T) => q.push(item),
    async *drain(done: Promise<unknown>): AsyncGenerator<T> {
      done.then(
        () => q.end(),
        (e) => q.end(e),
      );
      yield* q.drain();
    },
  };
}

export function createImageService(
  images: ImageManager,
  builder: ImageBuilder,
  o: Orchestrator,
): ServiceImpl<typeof ImageService> {
  const usage = () => {
    const counts = new Map<string, number>();
    for (const v of o.list({ all: true })) counts.set(v.row.imageDigest, (counts.get(v.row.imageDigest) ?? 0) + 1);
    return counts;
  };
  return {
    async *pull(req, ctx) {
      const ch = channel<{ digest: string; status: string; doneBytes: number; totalBytes: number; kind: string }>();
      const done = images.pull(req.ref, {
        platform: req.platform || undefined,
        signal: ctx.signal,
        onProgress: throttleBlobProgress((p) => ch.push(p)),
      });
      for await (const p of ch.drain(done))
        yield {
          event: {
            case: 'progress',
            value: { ...p, doneBytes: BigInt(p.doneBytes), totalBytes: BigInt(p.totalBytes) },
          },
        };
      yield { event: { case: 'done', value: toImageSummary(await done) } };
    },
    async *push(req, ctx) {
      const ch = channel<{ digest: string; status: string; doneBytes: number; totalBytes: number; kind: string }>();
      const done = images.push(req.ref, { signal: ctx.signal, onProgress: (p) => ch.push(p) });
      for await (const p of ch.drain(done))
        yield {
          event: {
            case: 'progress',
            value: { ...p, doneBytes: BigInt(p.doneBytes), totalBytes: BigInt(p.totalBytes) },
          },
        };
      yield { event: { case: 'digest', value: (await done).digest } };
    },
    async list(req) {
      const counts = usage();
      return {
        images: images.list(req.reference || undefined).map((i) => toImageSummary(i, counts.get(i.digest) ?? 0)),
      };
    },
    async remove(req) {
      const r = images.store.removeImage(req.ref, { force: req.force });
      return { untagged: r.untagged, deleted: r.deleted ? [r.deleted] : [] };
    },
    async tag(req) {
      const img = images.store.resolveImage(req.source);
      images.store.tagImage(img.digest, parseImageRef(req.target));
      return {};
    },
    async load(req) {
      return { images: (await images.load(req.path)).map((i) => toImageSummary(i)) };
    },
    async save(req) {
      await images.save(req.refs, req.path);
      return {};
    },
    async login(req) {
      await images.login(req.registry, req.username, req.password);
      return { status: 'Login Succeeded' };
    },
    async logout(req) {
      return { removed: await images.logout(req.registry) };
    },
    ...createBuildHandlers(builder, images),
    async prune(req) {
      const r = await images.prune(req.all, o.imageInUse());
      return { deleted: r.deleted, reclaimedBytes: BigInt(r.reclaimedBytes) };
    },
    async history(req) {
      const rows = imageHistory(images.store.resolveImage(req.ref));
      return {
        entries: rows.map((r) => ({
          ...r,
          createdAt: BigInt(r.createdAtMs),
          sizeBytes: BigInt(r.sizeBytes),
        })),
      };
    },
    async import(requests) {
      const it = requests[Symbol.asyncIterator]();
      const first = await it.next();
      if (first.done || first.value.msg.case !== 'start')
        throw new HyprError('INVALID_ARGUMENT', 'the first import request must be a start');
      const start = first.value.msg.value;
      async function* data(): AsyncGenerator<Uint8Array> {
        for (let r = await it.next(); !r.done; r = await it.next())
          if (r.value.msg.case === 'data') yield r.value.msg.value;
      }
      const image = await importImage(images.store, data(), {
        reference: start.reference || undefined,
        message: start.message || undefined,
        changes: start.changes,
        source: start.source,
      });
      return { id: image.configDigest };
    },
  };
}
