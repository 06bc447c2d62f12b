import { open } from 'node:fs/promises';
import { HyprError } from '../errors.js';
import { silentLogger } from '../log.js';
import { type ImageRef, formatImageRef, imageRepositoryName, parseImageRef } from '../registry/index.js';
import type { ImageStore } from './image-store.js';
import type { ImageDescriptor } from './manifest.js';
import { type RegistryAccessOptions, createRegistryClients, runPool } from './pull.js';

export interface PushProgress {
  digest: string;
  kind: 'config' | 'layer';
  status: 'exists' | 'mounted' | 'uploading' | 'done';
  doneBytes: number;
  totalBytes: number;
}

export interface PushImageOptions extends RegistryAccessOptions {
  /** Blobs larger than this go up in PATCH chunks of this size. Default 16 MiB. */
  chunkSizeBytes?: number;
  /** Blobs uploaded at once. Default 3. */
  concurrency?: number;
  onProgress?: (p: PushProgress) => void;
  signal?: AbortSignal;
}

/**
 * `docker push`: uploads a local image to `target` (default: its own name). Blobs the repository
 * has are skipped, blobs from another repository of the same registry are mounted, the rest are
 * uploaded (monolithic or chunked); the manifest goes last, byte for byte, so the digest is kept.
 */
export async function pushImage(
  store: ImageStore,
  source: string,
  target?: string | ImageRef,
  opts: PushImageOptions = {},
): Promise<{ ref: string; digest: string }> {
  const image = store.resolveImage(source);
  const ref = typeof target === 'string' ? parseImageRef(target) : (target ?? parseImageRef(source));
  const log = (opts.logger ?? silentLogger).child({ op: 'push', ref: formatImageRef(ref) });
  const client = createRegistryClients(ref.registry, { ...opts, registryMirrors: undefined })[0];
  const repo = ref.repository;
  const mountFrom =
    image.source?.startsWith(`${ref.registry}/`) && image.source !== imageRepositoryName(ref)
      ? image.source.slice(ref.registry.length + 1)
      : undefined;
  const blobs: { desc: ImageDescriptor; kind: PushProgress['kind'] }[] = [
    ...image.layers.map((desc) => ({ desc, kind: 'layer' as const })),
    {
      desc: { mediaType: '', digest: image.configDigest, size: (await store.blobs.blobSize(image.configDigest)) ?? 0 },
      kind: 'config',
    },
  ];
  await runPool(blobs, opts.concurrency ?? 3, async ({ desc, kind }) => {
    const ev = (status: PushProgress['status'], doneBytes: number) =>
      opts.onProgress?.({ digest: desc.digest, kind, status, doneBytes, totalBytes: desc.size });
    if ((await client.blobSize(repo, desc.digest, opts.signal, ['pull', 'push'])) !== undefined)
      return ev('exists', desc.size);
    if (mountFrom && (await client.mountBlob(repo, desc.digest, mountFrom, opts.signal)))
      return ev('mounted', desc.size);
    const size = await store.blobs.blobSize(desc.digest);
    if (size === undefined) {
      throw new HyprError(
        'IMAGE_BLOB_NOT_FOUND',
        `blob ${desc.digest} of ${source} is not in the store`,
        `pull ${source} again`,
      );
    }
    const fh = await open(store.blobs.blobPath(desc.digest), 'r');
    try {
      ev('uploading', 0);
      await client.uploadBlob(
        repo,
        desc.digest,
        size,
        async (offset, length) => {
          const buf = Buffer.allocUnsafe(length);
          const { bytesRead } = await fh.read(buf, 0, length, offset);
          return buf.subarray(0, bytesRead);
        },
        { chunkSizeBytes: opts.chunkSizeBytes, signal: opts.signal, onProgress: (n) => ev('uploading', n) },
      );
    } finally {
      await fh.close();
    }
    ev('done', size);
  });
  const manifest = await store.blobs.readBlob(image.digest);
  const digest = await client.putManifest(
    repo,
    ref.digest ?? ref.tag ?? 'latest',
    image.mediaType,
    manifest,
    opts.signal,
  );
  log.debug({ digest }, 'pushed');
  return { ref: formatImageRef({ ...ref, digest: undefined }), digest };
}
