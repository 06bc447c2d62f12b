/**
 * docker commit, docker diff and docker export, from the container's writable layer
 * (writable-layer.ts) over its image's layers.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  HyprError,
  type ImageConfig,
  type ImageRecord,
  type ImageStore,
  MEDIA_TYPES,
  decompressLayer,
  parseImageRef,
  readTar,
  storeLayerTar,
  unpackImage,
  unpackLayer,
} from '@hypr/core';
import { create as createTar } from 'tar';
import { applyConfigChanges } from '../images/config-changes.js';
import { storedConfig } from './store.js';
import type { ContainerRow } from './types.js';
import { type WritableLayerDeps, layerTar, readWritableLayer } from './writable-layer.js';

export interface CommitDeps extends WritableLayerDeps {
  images: ImageStore;
}

export interface CommitOptions {
  /** REPO[:TAG]; absent: an untagged image. */
  reference?: string;
  message?: string;
  author?: string;
  changes?: readonly string[];
  /** Freeze the VM while its layer is read (default true). */
  pause?: boolean;
}

function imageOf(d: CommitDeps, row: ContainerRow): ImageRecord {
  const image = d.images.getImage(row.imageDigest);
  if (!image)
    throw new HyprError(
      'IMAGE_NOT_FOUND',
      `the image ${row.imageRef} of container ${row.name} is gone`,
      'pull it again',
    );
  return image;
}

/** The container's writable layer as a tar file in `work`. */
async function writeLayerFile(d: CommitDeps, row: ContainerRow, work: string, pause: boolean): Promise<string> {
  const layer = await readWritableLayer(d, row, { pause });
  try {
    const path = join(work, 'layer.tar');
    await pipeline(layerTar(layer), createWriteStream(path));
    return path;
  } finally {
    await layer.cleanup();
  }
}

/** docker commit: a new image, the container's image plus its writable layer as one more layer. */
export async function commitContainer(d: CommitDeps, text: string, o: CommitOptions = {}): Promise<ImageRecord> {
  const row = d.store.resolve(text);
  const names = o.reference ? [parseImageRef(o.reference)] : [];
  const config = applyConfigChanges(imageOf(d, row).config.config ?? {}, o.changes ?? []);
  const work = await mkdtemp(join(tmpdir(), 'hypr-commit-'));
  try {
    const tarPath = await writeLayerFile(d, row, work, o.pause ?? true);
    const image = imageOf(d, row);
    const layer = await storeLayerTar(d.images, tarPath);
    const created = new Date().toISOString();
    const imageConfig: ImageConfig = {
      ...structuredClone(image.config),
      created,
      ...(o.author ? { author: o.author } : {}),
      config,
      rootfs: { type: 'layers', diff_ids: [...image.config.rootfs.diff_ids, layer.diffId] },
      history: [
        ...(image.config.history ?? []),
        {
          created,
          created_by: storedConfig(row).argv.join(' '),
          ...(o.message ? { comment: o.message } : {}),
          ...(o.author ? { author: o.author } : {}),
        },
      ],
    };
    const configBytes = Buffer.from(JSON.stringify(imageConfig));
    const { digest: configDigest } = await d.images.blobs.writeBlob(configBytes);
    const layers = [...image.layers, { mediaType: layer.mediaType, digest: layer.digest, size: layer.sizeBytes }];
    const manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, digest: configDigest, size: configBytes.length },
      layers,
    };
    const { digest } = await d.images.blobs.writeBlob(Buffer.from(JSON.stringify(manifest)));
    return d.images.addImage(
      { digest, mediaType: MEDIA_TYPES.ociManifest, configDigest, config: imageConfig, layers, source: 'commit' },
      names,
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The paths the image has (its layers applied, whiteouts honoured), without a leading slash. */
async function imagePaths(store: ImageStore, image: ImageRecord): Promise<Set<string>> {
  const paths = new Set<string>();
  for (const l of image.layers)
    for await (const { header } of readTar(decompressLayer(store.blobs.openBlob(l.digest)))) {
      const path = header.path.replace(/^(\.?\/)+/, '').replace(/\/$/, '');
      const slash = path.lastIndexOf('/');
      const dir = slash < 0 ? '' : path.slice(0, slash);
      const name = path.slice(slash + 1);
      if (name === '.wh..wh..opq') {
        for (const p of paths) if (p.startsWith(`${dir}/`)) paths.delete(p);
      } else if (name.startsWith('.wh.')) {
        const gone = dir ? `${dir}/${name.slice(4)}` : name.slice(4);
        for (const p of paths) if (p === gone || p.startsWith(`${gone}/`)) paths.delete(p);
      } else if (path) paths.add(path);
    }
  return paths;
}

/** docker diff: A (added), C (changed) and D (deleted) paths of the writable layer, in path order. */
export async function diffContainer(d: CommitDeps, text: string): Promise<{ kind: 'A' | 'C' | 'D'; path: string }[]> {
  const row = d.store.resolve(text);
  const layer = await readWritableLayer(d, row, { pause: false });
  try {
    const lower = await imagePaths(d.images, imageOf(d, row));
    return layer.entries.map((e) => ({
      kind: e.whiteout ? 'D' : lower.has(e.path) ? 'C' : 'A',
      path: `/${e.path}`,
    }));
  } finally {
    await layer.cleanup();
  }
}

/** The container's whole filesystem under WORK/rootfs: the image's layers, then its writable layer. */
export async function flattenContainer(
  d: CommitDeps,
  row: ContainerRow,
  work: string,
  signal?: AbortSignal,
): Promise<string> {
  const tarPath = await writeLayerFile(d, row, work, false);
  const root = join(work, 'rootfs');
  await unpackImage(d.images, imageOf(d, row), root, { signal });
  await unpackLayer(root, createReadStream(tarPath), { signal });
  return root;
}

/** docker export: the container's whole filesystem (image layers, then its writable layer) as a tar. */
export async function* exportContainer(d: CommitDeps, text: string, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  const row = d.store.resolve(text);
  const work = await mkdtemp(join(tmpdir(), 'hypr-export-'));
  try {
    const root = await flattenContainer(d, row, work, signal);
    const entries = (await readdir(root)).sort();
    if (!entries.length) return;
    const pack = createTar({ cwd: root, portable: false, preservePaths: false }, entries);
    for await (const chunk of pack as AsyncIterable<Buffer>) {
      signal?.throwIfAborted();
      yield chunk;
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
