import { createReadStream, createWriteStream } from 'node:fs';
import { posix } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { HyprError } from '../errors.js';
import { type Logger, silentLogger } from '../log.js';
import { type ImageRef, familiarImageRef, parseImageRef } from '../registry/index.js';
import { decompressLayer, detectCompression } from './decompress.js';
import type { ImageRecord, ImageStore } from './image-store.js';
import {
  type ImageDescriptor,
  type ImagePlatform,
  MEDIA_TYPES,
  hostPlatform,
  parseImageConfig,
  parseManifest,
  selectPlatformManifest,
} from './manifest.js';
import { readTar } from './tar-reader.js';
import { TAR_END, tarHeader, tarPadding } from './tar-writer.js';

const BLOB_PATH = /^blobs\/sha256\/([a-f0-9]{64})$/;
const MAX_JSON_BYTES = 16 << 20;

interface DockerSaveEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

/**
 * `docker save`: writes images as one tar that is both an OCI image layout (`oci-layout`,
 * `index.json`, `blobs/sha256/…`) and a docker archive (`manifest.json`), as docker 25+ does, so
 * `docker load`, `skopeo` (oci-archive:) and `hypr load` all read it.
 */
export async function saveImages(store: ImageStore, names: readonly string[], out: string | Writable): Promise<void> {
  const images = names.map((n) => ({ name: n, image: store.resolveImage(n) }));
  const stream = typeof out === 'string' ? createWriteStream(out, { mode: 0o644 }) : out;
  const write = (b: Buffer) =>
    new Promise<void>((resolve, reject) => stream.write(b, (e) => (e ? reject(e) : resolve())));
  const written = new Set<string>();
  const writeFile = async (path: string, data: Buffer) => {
    await write(tarHeader({ path, type: 'file', mode: 0o644, sizeBytes: data.length }));
    await write(data);
    await write(tarPadding(data.length));
  };
  const writeBlob = async (digest: string) => {
    if (written.has(digest)) return;
    written.add(digest);
    const size = await store.blobs.blobSize(digest);
    if (size === undefined) throw new HyprError('IMAGE_BLOB_NOT_FOUND', `blob ${digest} is missing from the store`);
    await write(tarHeader({ path: `blobs/sha256/${digest.slice(7)}`, type: 'file', mode: 0o644, sizeBytes: size }));
    for await (const chunk of createReadStream(store.blobs.blobPath(digest), { highWaterMark: 1 << 20 }))
      await write(chunk as Buffer);
    await write(tarPadding(size));
  };
  try {
    await write(tarHeader({ path: 'blobs', type: 'directory' }));
    await write(tarHeader({ path: 'blobs/sha256', type: 'directory' }));
    const index: ImageDescriptor[] = [];
    const dockerManifest: DockerSaveEntry[] = [];
    for (const { name, image } of images) {
      for (const l of image.layers) await writeBlob(l.digest);
      await writeBlob(image.configDigest);
      await writeBlob(image.digest);
      const ref = /^(sha256:)?[a-f0-9]{4,64}$/.test(name) ? undefined : parseImageRef(name);
      const tags = ref?.tag ? [familiarImageRef({ ...ref, digest: undefined })] : [];
      index.push({
        mediaType: image.mediaType,
        digest: image.digest,
        size: (await store.blobs.blobSize(image.digest)) ?? 0,
        annotations: tags.length
          ? {
              'io.containerd.image.name': `${ref!.registry}/${ref!.repository}:${ref!.tag}`,
              'org.opencontainers.image.ref.name': ref!.tag!,
            }
          : {},
      });
      dockerManifest.push({
        Config: `blobs/sha256/${image.configDigest.slice(7)}`,
        RepoTags: tags,
        Layers: image.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
      });
    }
    await writeFile('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
    await writeFile(
      'index.json',
      Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: index })),
    );
    await writeFile('manifest.json', Buffer.from(JSON.stringify(dockerManifest)));
    await write(TAR_END);
  } finally {
    if (typeof out === 'string') {
      stream.end();
      await finished(stream);
    }
  }
}

export interface LoadImagesOptions {
  /** For OCI layouts holding an index: the platform to load. Default the host's. */
  platform?: ImagePlatform;
  signal?: AbortSignal;
  logger?: Logger;
}

/**
 * `docker load`: reads a `docker save` archive (legacy `<id>/layer.tar` or docker 25+ layout) or
 * an OCI image layout tar, plain or gzip/zstd-compressed. Every blob is verified against its name
 * as it streams into the store. Returns the images loaded.
 */
export async function loadImages(
  store: ImageStore,
  input: string | AsyncIterable<Uint8Array>,
  opts: LoadImagesOptions = {},
): Promise<ImageRecord[]> {
  const log = (opts.logger ?? silentLogger).child({ op: 'load' });
  const source = typeof input === 'string' ? createReadStream(input, { highWaterMark: 1 << 20 }) : input;
  const json = new Map<string, Buffer>();
  const files = new Map<string, string>(); // archive path → stored digest
  const links = new Map<string, string>();
  for await (const { header, body } of readTar(decompressLayer(source))) {
    opts.signal?.throwIfAborted();
    const path = posix.normalize(header.path).replace(/^(\.\/|\/)+/, '');
    if (path.startsWith('..'))
      throw new HyprError('IMAGE_ARCHIVE_INVALID', `archive entry "${header.path}" climbs out`);
    if (header.type === 'symlink') {
      links.set(path, posix.normalize(posix.join(posix.dirname(path), header.linkpath)));
      continue;
    }
    if (header.type !== 'file') continue;
    const blob = BLOB_PATH.exec(path);
    if (path.endsWith('.json') || path === 'oci-layout' || path === 'repositories') {
      if (header.sizeBytes > MAX_JSON_BYTES) throw new HyprError('IMAGE_ARCHIVE_INVALID', `${path} is too large`);
      const parts: Buffer[] = [];
      for await (const c of body) parts.push(c);
      const data = Buffer.concat(parts);
      json.set(path, data);
      if (blob) await store.blobs.writeBlob(data, { digest: `sha256:${blob[1]}` });
      else files.set(path, (await store.blobs.writeBlob(data)).digest);
      continue;
    }
    const { digest } = await store.blobs.ingest(
      body,
      blob ? { digest: `sha256:${blob[1]}`, sizeBytes: header.sizeBytes } : {},
      opts.signal,
    );
    files.set(path, digest);
  }
  const digestOf = (p: string): string => {
    let path = posix.normalize(p);
    for (let i = 0; i < 10 && links.has(path); i++) path = links.get(path)!;
    const m = BLOB_PATH.exec(path);
    const d = files.get(path) ?? (m ? `sha256:${m[1]}` : undefined);
    if (!d) throw new HyprError('IMAGE_ARCHIVE_INVALID', `the archive lacks ${p}`);
    return d;
  };
  const dockerEntries = json.has('manifest.json')
    ? (JSON.parse(json.get('manifest.json')!.toString()) as DockerSaveEntry[])
    : [];
  const loaded: ImageRecord[] = [];
  if (json.has('index.json')) {
    const index = parseManifest(json.get('index.json')!, MEDIA_TYPES.ociIndex);
    if (index.kind !== 'index') throw new HyprError('IMAGE_ARCHIVE_INVALID', 'index.json is not an image index');
    for (const desc of index.index.manifests) {
      let mdesc = desc;
      let indexDigest: string | undefined;
      let parsed = parseManifest(await store.blobs.readBlob(desc.digest), desc.mediaType);
      if (parsed.kind === 'index') {
        indexDigest = desc.digest;
        mdesc = selectPlatformManifest(parsed.index, opts.platform ?? hostPlatform());
        parsed = parseManifest(await store.blobs.readBlob(mdesc.digest), mdesc.mediaType);
      }
      if (parsed.kind !== 'manifest') throw new HyprError('IMAGE_ARCHIVE_INVALID', 'an index points at another index');
      const m = parsed.manifest;
      const names = new Set<string>();
      const named = desc.annotations?.['io.containerd.image.name'];
      if (named) names.add(named);
      for (const e of dockerEntries)
        if (digestOf(e.Config) === m.config.digest) for (const t of e.RepoTags ?? []) names.add(t);
      loaded.push(
        store.addImage(
          {
            digest: mdesc.digest,
            mediaType: parsed.mediaType,
            configDigest: m.config.digest,
            config: parseImageConfig(await store.blobs.readBlob(m.config.digest)),
            layers: m.layers,
            indexDigest,
          },
          [...names].map((n) => parseImageRef(n)),
        ),
      );
    }
  } else if (dockerEntries.length) {
    for (const e of dockerEntries) {
      const configDigest = digestOf(e.Config);
      const configBytes = await store.blobs.readBlob(configDigest);
      const config = parseImageConfig(configBytes);
      const layers: ImageDescriptor[] = [];
      for (const l of e.Layers) {
        const digest = digestOf(l);
        const head = await readHead(store, digest);
        const kind = detectCompression(head);
        layers.push({
          mediaType:
            kind === 'gzip'
              ? MEDIA_TYPES.ociLayerGzip
              : kind === 'zstd'
                ? MEDIA_TYPES.ociLayerZstd
                : MEDIA_TYPES.ociLayer,
          digest,
          size: (await store.blobs.blobSize(digest)) ?? 0,
        });
      }
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA_TYPES.ociManifest,
          config: { mediaType: MEDIA_TYPES.ociConfig, digest: configDigest, size: configBytes.length },
          layers,
        }),
      );
      const { digest } = await store.blobs.writeBlob(manifest);
      const refs: ImageRef[] = (e.RepoTags ?? []).map((t) => parseImageRef(t));
      loaded.push(store.addImage({ digest, mediaType: MEDIA_TYPES.ociManifest, configDigest, config, layers }, refs));
    }
  } else {
    throw new HyprError(
      'IMAGE_ARCHIVE_INVALID',
      'the archive has neither index.json (OCI layout) nor manifest.json (docker save)',
      'give a file made by `docker save`, `hypr save` or an OCI image layout tar',
    );
  }
  log.debug({ images: loaded.length }, 'loaded');
  return loaded;
}

async function readHead(store: ImageStore, digest: string): Promise<Buffer> {
  for await (const c of store.blobs.openBlob(digest)) return (c as Buffer).subarray(0, 8);
  return Buffer.alloc(0);
}
