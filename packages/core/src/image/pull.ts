import { HyprError } from '../errors.js';
import { type Logger, silentLogger } from '../log.js';
import {
  type ImageRef,
  RegistryClient,
  type RegistryCredentialResolver,
  RegistryError,
  formatImageRef,
  imageRepositoryName,
  parseImageRef,
} from '../registry/index.js';
import type { AddImageInput, ImageRecord, ImageStore } from './image-store.js';
import {
  type ImageConfig,
  type ImageDescriptor,
  type ImagePlatform,
  hostPlatform,
  isLayerMediaType,
  parseImageConfig,
  parseManifest,
  selectPlatformManifest,
} from './manifest.js';
import { BlobDigestMismatchError, type BlobStore, type BlobWriter } from './store.js';

/** One progress event per change of a blob's state, and while bytes stream. */
export interface PullProgress {
  digest: string;
  kind: 'config' | 'layer';
  status: 'exists' | 'downloading' | 'retrying' | 'done';
  doneBytes: number;
  totalBytes: number;
}

export interface RegistryAccessOptions {
  /** Registries reached over plain http (loopback ones always are). */
  insecureRegistries?: readonly string[];
  /** Pull-through mirrors per registry, tried in order before it: `{ 'docker.io': ['http://127.0.0.1:5001'] }`. */
  registryMirrors?: Readonly<Record<string, readonly string[]>>;
  credentials?: RegistryCredentialResolver;
  logger?: Logger;
  /** Retries after transient failures, per request and per blob. Default 4. */
  retries?: number;
  retryBaseMs?: number;
}

export interface PullImageOptions extends RegistryAccessOptions {
  /** Default: the host's (linux/<arch>). */
  platform?: ImagePlatform;
  /** Layers downloaded at once. Default 3. */
  concurrency?: number;
  onProgress?: (p: PullProgress) => void;
  /**
   * Called as a layer starts downloading (index: its place in the manifest): what it returns gets
   * the layer's bytes in order as they arrive, then `end()` once every byte is in (before the
   * blob's digest is checked: a reader checks what it makes by the diff id), or `end(error)`. The
   * pull process makes the layer's disk from them.
   */
  onLayer?: (layer: ImageDescriptor, index: number, config: ImageConfig) => LayerConsumer | undefined;
  signal?: AbortSignal;
}

/** A reader of a layer's bytes while it downloads (PullImageOptions.onLayer). */
export interface LayerConsumer {
  /** `chunk` starts at byte `offset` of the blob; after a cut the download may start over at 0. */
  write(chunk: Uint8Array, offset: number): Promise<void>;
  end(failure?: unknown): void;
}

/** Creates a client per endpoint: the registry's mirrors first, then the registry itself. */
export function createRegistryClients(registry: string, opts: RegistryAccessOptions): RegistryClient[] {
  const common = {
    insecureRegistries: opts.insecureRegistries,
    credentials: opts.credentials,
    logger: opts.logger,
    retries: opts.retries,
    retryBaseMs: opts.retryBaseMs,
  };
  const mirrors = (opts.registryMirrors?.[registry] ?? []).map(
    (endpoint) => new RegistryClient(registry, { ...common, endpoint }),
  );
  return [...mirrors, new RegistryClient(registry, common)];
}

/** Runs `fn` over `items` with at most `limit` at once; the first failure aborts the rest. */
export async function runPool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed !== undefined) throw failed;
}

function isTransient(e: unknown): boolean {
  if (e instanceof BlobDigestMismatchError) return false;
  if (e instanceof RegistryError)
    return e.code === 'REGISTRY_UNREACHABLE' || (e.status !== undefined && e.status >= 500);
  if (e instanceof HyprError) return e.code === 'REGISTRY_BLOB_SHORT';
  return true; // network errors thrown while reading a body ("terminated", ECONNRESET …)
}

/** The blob a registry serves is not the size its manifest declares: the manifest is wrong, not the network. */
function sizeMismatch(desc: ImageDescriptor, client: RegistryClient, servedBytes: number): HyprError {
  return new HyprError(
    'IMAGE_MANIFEST_INVALID',
    `the manifest declares blob ${desc.digest} as ${desc.size} bytes, but ${client.registry} serves ${servedBytes} bytes`,
    'the image was pushed with a wrong manifest; ask its publisher to push it again',
  );
}

/**
 * Downloads one blob into the store: streamed, hashed while streaming, verified, resumed with a
 * Range request after a cut connection when the registry honours it, retried with backoff.
 */
export async function fetchBlobToStore(
  client: RegistryClient,
  repository: string,
  desc: ImageDescriptor,
  blobs: BlobStore,
  opts: {
    signal?: AbortSignal;
    retries?: number;
    retryBaseMs?: number;
    onBytes?: (done: number) => void;
    /** Each chunk as it is stored, with its offset in the blob. */
    onChunk?: (chunk: Uint8Array, offset: number) => Promise<void> | void;
    /** Every byte is in; the blob's digest check and fsync come next. */
    onAllBytes?: () => void;
    logger?: Logger;
  } = {},
): Promise<void> {
  const log = (opts.logger ?? silentLogger).child({ digest: desc.digest });
  if ((await blobs.blobSize(desc.digest)) === desc.size) return;
  const retries = opts.retries ?? 4;
  let writer: BlobWriter = await blobs.createWriter({ digest: desc.digest, sizeBytes: desc.size }, client.registry);
  for (let attempt = 0; ; attempt++) {
    try {
      const offset = writer.bytesWritten;
      const res = await client
        .getBlob(repository, desc.digest, { offsetBytes: offset, signal: opts.signal })
        .catch((e: unknown) => {
          // Nothing left past `offset`: the blob is shorter than the manifest says.
          if (offset > 0 && e instanceof RegistryError && e.status === 416) throw sizeMismatch(desc, client, offset);
          throw e;
        });
      const length = res.headers.get('content-length');
      if (res.status === 200 && length !== null && Number(length) !== desc.size) {
        await res.body?.cancel().catch(() => {}); // its socket would otherwise stay open
        throw sizeMismatch(desc, client, Number(length));
      }
      if (offset > 0 && res.status !== 206) {
        log.debug({ offset }, 'registry ignored the range; restarting the blob');
        await writer.abort();
        writer = await blobs.createWriter({ digest: desc.digest, sizeBytes: desc.size }, client.registry);
      }
      if (!res.body) throw new HyprError('REGISTRY_BLOB_SHORT', `blob ${desc.digest} came with no body`);
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        const at = writer.bytesWritten;
        await writer.write(chunk);
        await opts.onChunk?.(chunk, at);
        opts.onBytes?.(writer.bytesWritten);
      }
      if (writer.bytesWritten < desc.size) {
        throw new HyprError(
          'REGISTRY_BLOB_SHORT',
          `blob ${desc.digest} ended after ${writer.bytesWritten} of ${desc.size} bytes`,
        );
      }
      opts.onAllBytes?.();
      await writer.commit();
      return;
    } catch (e) {
      if (opts.signal?.aborted || !isTransient(e) || attempt >= retries) {
        await writer.abort();
        if (opts.signal?.aborted) throw opts.signal.reason;
        if (isTransient(e)) {
          throw new HyprError(
            'REGISTRY_BLOB_INTERRUPTED',
            `download of ${desc.digest} from ${client.registry} failed after ${attempt + 1} attempts: ${(e as Error).message}`,
            'check the network and pull again; completed layers are kept',
            { cause: e },
          );
        }
        throw e;
      }
      const delay = Math.min((opts.retryBaseMs ?? 200) * 2 ** attempt, 10_000);
      log.debug(
        { attempt, delayMs: delay, err: (e as Error).message, offset: writer.bytesWritten },
        'blob download interrupted',
      );
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/**
 * `docker pull`: resolves the reference (index → the platform's manifest), downloads config and
 * layers into the store (missing ones only, several at once), and records the image under its name.
 */
export async function pullImage(
  store: ImageStore,
  reference: string | ImageRef,
  opts: PullImageOptions = {},
): Promise<ImageRecord> {
  const ref = typeof reference === 'string' ? parseImageRef(reference) : reference;
  const fetched = await fetchImage(store.blobs, ref, opts);
  const record = store.addImage(fetched, ref.tag ? [ref] : []);
  (opts.logger ?? silentLogger).debug(
    { op: 'pull', ref: formatImageRef(ref), digest: record.digest, layers: record.layers.length },
    'pulled',
  );
  return record;
}

/**
 * The download half of a pull: every blob of the image into `blobs` (verified), and what the
 * store needs to record it. Touches no database, so it runs as well in a process of its own.
 */
export async function fetchImage(
  blobs: BlobStore,
  reference: string | ImageRef,
  opts: PullImageOptions = {},
): Promise<AddImageInput> {
  const ref = typeof reference === 'string' ? parseImageRef(reference) : reference;
  const log = (opts.logger ?? silentLogger).child({ op: 'pull', ref: formatImageRef(ref) });
  const platform = opts.platform ?? hostPlatform();
  const clients = createRegistryClients(ref.registry, opts);
  let lastError: unknown;
  for (const client of clients) {
    try {
      return await fetchFrom(client, blobs, ref, platform, opts, log);
    } catch (e) {
      lastError = e;
      if (opts.signal?.aborted || client === clients[clients.length - 1]) break;
      log.debug({ endpoint: client.baseUrl, err: (e as Error).message }, 'mirror failed; trying the next endpoint');
    }
  }
  throw lastError;
}

async function fetchFrom(
  client: RegistryClient,
  blobs: BlobStore,
  ref: ImageRef,
  platform: ImagePlatform,
  opts: PullImageOptions,
  log: Logger,
): Promise<AddImageInput> {
  const repo = ref.repository;
  const signal = opts.signal;
  let fetched = await client.getManifest(repo, ref.digest ?? ref.tag ?? 'latest', signal);
  let parsed = parseManifest(fetched.bytes, fetched.mediaType);
  let indexDigest: string | undefined;
  if (parsed.kind === 'index') {
    indexDigest = fetched.digest;
    await blobs.writeBlob(fetched.bytes, { digest: fetched.digest });
    const chosen = selectPlatformManifest(parsed.index, platform);
    log.debug({ digest: chosen.digest, platform: chosen.platform }, 'platform selected');
    fetched = await client.getManifest(repo, chosen.digest, signal);
    if (fetched.digest !== chosen.digest)
      throw new BlobDigestMismatchError(chosen.digest, fetched.digest, client.registry);
    parsed = parseManifest(fetched.bytes, fetched.mediaType || chosen.mediaType);
    if (parsed.kind !== 'manifest') throw new HyprError('IMAGE_MANIFEST_INVALID', 'an index points at another index');
  }
  const manifest = parsed.manifest;
  for (const l of manifest.layers) {
    if (!isLayerMediaType(l.mediaType)) {
      throw new HyprError('IMAGE_MANIFEST_UNSUPPORTED', `layer ${l.digest} has unsupported media type ${l.mediaType}`);
    }
  }
  const retry = { retries: opts.retries, retryBaseMs: opts.retryBaseMs, signal, logger: opts.logger };
  const progress = (
    kind: PullProgress['kind'],
    d: ImageDescriptor,
    status: PullProgress['status'],
    doneBytes: number,
  ) => opts.onProgress?.({ digest: d.digest, kind, status, doneBytes, totalBytes: d.size });
  // Config first: small, and it must parse before layers are worth fetching.
  await fetchBlobToStore(client, repo, manifest.config, blobs, retry);
  const config = parseImageConfig(await blobs.readBlob(manifest.config.digest));
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new HyprError(
      'IMAGE_CONFIG_INVALID',
      `the image has ${manifest.layers.length} layers but its config lists ${config.rootfs.diff_ids.length} diff ids`,
    );
  }
  progress('config', manifest.config, 'done', manifest.config.size);
  const unique = [...new Map(manifest.layers.map((l) => [l.digest, l])).values()];
  await runPool(unique, opts.concurrency ?? 3, async (layer) => {
    if ((await blobs.blobSize(layer.digest)) === layer.size) {
      progress('layer', layer, 'exists', layer.size);
      return;
    }
    progress('layer', layer, 'downloading', 0);
    const consumer = opts.onLayer?.(layer, manifest.layers.indexOf(layer), config);
    try {
      await fetchBlobToStore(client, repo, layer, blobs, {
        ...retry,
        onBytes: (n) => progress('layer', layer, 'downloading', n),
        onChunk: consumer && ((chunk, at) => consumer.write(chunk, at)),
        // The layer's disk is checked by its diff id: it need not wait for the blob's fsync.
        onAllBytes: () => consumer?.end(),
      });
    } catch (e) {
      consumer?.end(e);
      throw e;
    }
    consumer?.end();
    progress('layer', layer, 'done', layer.size);
  });
  // The manifest blob goes in last: its presence means the image is whole.
  await blobs.writeBlob(fetched.bytes, { digest: fetched.digest });
  return {
    digest: fetched.digest,
    mediaType: parsed.mediaType,
    configDigest: manifest.config.digest,
    config,
    layers: manifest.layers,
    indexDigest,
    source: imageRepositoryName(ref),
  };
}
