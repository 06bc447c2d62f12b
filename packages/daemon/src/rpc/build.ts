// ImageService's build methods: decode BuildOptions and the context chunks, call the image
// builder, encode its progress, result, export chunks and failure; no logic here.
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import type { BuildOptions, BuildRequest, BuildResponseSchema, ImageService } from '@hypr/api';
import { HyprError } from '@hypr/core';
import type { BuildProgressEvent } from '@hypr/core/builder';
import { AsyncQueue } from '../async-queue.js';
import {
  type BuildRequestOptions,
  type ImageBuilder,
  type ImageManager,
  buildCacheUsage,
  pruneBuildCache,
} from '../images/index.js';

type BuildResponseInit = MessageInitShape<typeof BuildResponseSchema>;
type Event = NonNullable<BuildResponseInit['event']>;

function toBuildOptions(o: BuildOptions): BuildRequestOptions {
  if (o.network && o.network !== 'default' && o.network !== 'none')
    throw new HyprError(
      'BUILD_NETWORK_UNSUPPORTED',
      `network mode "${o.network}" is not supported for builds`,
      'use --network default or --network none',
    );
  if (o.builder && o.builder !== 'vm' && o.builder !== 'native')
    throw new HyprError(
      'BUILD_OPTIONS_INVALID',
      `builder "${o.builder}" is not known`,
      'use --builder vm (a microVM, the default) or --builder native (namespaces on the host)',
    );
  if (o.export && o.export !== 'tar')
    throw new HyprError('BUILD_OPTIONS_INVALID', `export "${o.export}" is not supported`, 'the CLI asks for "tar"');
  return {
    ...(o.dockerfile !== undefined ? { dockerfile: o.dockerfile } : {}),
    dockerfileName: o.dockerfileName || 'Dockerfile',
    ...(o.dockerignore !== undefined ? { dockerignore: o.dockerignore } : {}),
    tags: o.tags,
    buildArgs: o.buildArgs,
    ...(o.target ? { target: o.target } : {}),
    noCache: o.noCache,
    noCacheFilter: o.noCacheFilter,
    pull: o.pull,
    labels: o.labels,
    secrets: o.secrets.map((s) => ({ id: s.id, value: s.value })),
    network: o.network === 'none' ? 'none' : 'default',
    ...(o.builder === 'vm' || o.builder === 'native' ? { builder: o.builder } : {}),
    ...(o.platform ? { platform: o.platform } : {}),
    ...(o.export === 'tar' ? { export: 'tar' as const } : {}),
  };
}

function encodeProgress(e: BuildProgressEvent): Event {
  switch (e.type) {
    case 'step':
      return {
        case: 'step',
        value: {
          id: e.id,
          name: e.name,
          stage: e.stage,
          step: e.step,
          status: e.status,
          durationMs: BigInt(Math.round(e.durationMs ?? 0)),
        },
      };
    case 'log':
      return { case: 'log', value: { id: e.id, stream: e.stream, data: e.data } };
    case 'pull':
      return { case: 'pull', value: { ref: e.ref, status: e.status } };
    case 'warning': {
      const w = e.warning;
      return {
        case: 'warning',
        value: { rule: w.rule, message: w.message, file: w.file ?? '', line: w.line ?? 0, url: w.url ?? '' },
      };
    }
  }
}

function encodeFailure(e: unknown): Event {
  const err = HyprError.from(e);
  const exitCode = (err as { exitCode?: unknown }).exitCode;
  return {
    case: 'failure',
    value: {
      code: err.code,
      message: err.message,
      hint: err.hint ?? '',
      formatted: err.format(),
      exitCode: typeof exitCode === 'number' ? exitCode : 0,
    },
  };
}

/** The first message (options), then the context chunks; anything else out of place is an error. */
async function splitRequests(
  reqs: AsyncIterable<BuildRequest>,
): Promise<{ options: BuildOptions; context: AsyncIterable<Uint8Array> }> {
  const it = reqs[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done || first.value.part.case !== 'options')
    throw new HyprError('BUILD_OPTIONS_INVALID', 'a Build call must start with its options');
  async function* context(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      if (r.value.part.case !== 'context')
        throw new HyprError('BUILD_OPTIONS_INVALID', 'a Build call sends its options once, first');
      yield r.value.part.value;
    }
  }
  return { options: first.value.part.value, context: context() };
}

export function createBuildHandlers(
  builder: ImageBuilder,
  images: ImageManager,
): Pick<ServiceImpl<typeof ImageService>, 'build' | 'pruneBuildCache' | 'buildCacheUsage'> {
  return {
    async *build(reqs, ctx) {
      const msg = (event: Event): BuildResponseInit => ({ event });
      try {
        const { options, context } = await splitRequests(reqs);
        const q = new AsyncQueue<BuildResponseInit>();
        let lastContext = 0;
        const done = builder.build(toBuildOptions(options), context, {
          signal: ctx.signal,
          onContext: (receivedBytes, finished) => {
            const now = Date.now();
            if (!finished && now - lastContext < 100) return;
            lastContext = now;
            q.push(msg({ case: 'context', value: { receivedBytes: BigInt(receivedBytes), done: finished } }));
          },
          onProgress: (e) => q.push(msg(encodeProgress(e))),
        });
        done.then(
          () => q.end(),
          (e) => q.end(e),
        );
        yield* q.drain();
        const r = await done;
        yield msg({
          case: 'result',
          value: {
            imageId: r.imageId,
            imageDigest: r.imageDigest,
            tags: r.tags,
            steps: r.steps.length,
            cachedSteps: r.cachedSteps,
            vmRuns: r.vmRuns,
            durationMs: BigInt(r.durationMs),
          },
        });
        if (r.exportTar) for await (const chunk of r.exportTar) yield msg({ case: 'export', value: chunk });
      } catch (e) {
        yield msg(encodeFailure(e));
        throw e;
      }
    },
    async pruneBuildCache(req) {
      const r = await pruneBuildCache(images.store, {
        all: req.all,
        filters: req.filters,
        keepStorageBytes: Number(req.keepStorageBytes),
      });
      return { entries: r.entries, reclaimedBytes: BigInt(r.reclaimedBytes), deleted: r.deleted };
    },
    async buildCacheUsage() {
      const u = buildCacheUsage(images.store);
      return {
        entries: u.entries.map((e) => ({
          key: e.key,
          layer: e.layer ?? '',
          sizeBytes: BigInt(e.sizeBytes),
          createdAt: BigInt(e.createdAt),
          lastUsedAt: BigInt(e.lastUsedAt),
          shared: e.shared,
        })),
        totalBytes: BigInt(u.totalBytes),
        reclaimableBytes: BigInt(u.reclaimableBytes),
      };
    },
  };
}
