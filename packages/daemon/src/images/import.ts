/**
 * docker image import: a tarball (plain, gzip or zstd) becomes the one layer of a new image, with
 * the host's platform, a config made of the --change instructions and a history line that names
 * where the tarball came from.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  HyprError,
  type ImageConfig,
  type ImageRecord,
  type ImageStore,
  MEDIA_TYPES,
  decompressLayer,
  hostPlatform,
  parseImageRef,
  readTar,
  storeLayerTar,
} from '@hypr/core';
import { applyConfigChanges } from './config-changes.js';

export interface ImportOptions {
  reference?: string;
  message?: string;
  changes?: readonly string[];
  /** The file name or "-", for the history. */
  source?: string;
}

/** Checks the tarball is a tar: a clear error, not a broken image. */
async function checkTar(path: string): Promise<void> {
  try {
    for await (const e of readTar(createReadStream(path))) void e;
  } catch (err) {
    throw new HyprError(
      'IMAGE_ARCHIVE_INVALID',
      `the imported file is not a tar archive: ${HyprError.from(err).message}`,
      'give a tarball of a root filesystem (plain, gzip or zstd)',
      { cause: err },
    );
  }
}

export async function importImage(
  store: ImageStore,
  data: AsyncIterable<Uint8Array>,
  o: ImportOptions = {},
): Promise<ImageRecord> {
  const names = o.reference ? [parseImageRef(o.reference)] : [];
  const config = applyConfigChanges({}, o.changes ?? []);
  const work = await mkdtemp(join(tmpdir(), 'hypr-import-'));
  try {
    const tarPath = join(work, 'layer.tar');
    await pipeline(Readable.from(decompressLayer(data)), createWriteStream(tarPath));
    await checkTar(tarPath);
    const layer = await storeLayerTar(store, tarPath);
    const created = new Date().toISOString();
    const platform = hostPlatform();
    const imageConfig: ImageConfig = {
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      created,
      config,
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created, comment: o.message || `Imported from ${o.source || '-'}` }],
    };
    const configBytes = Buffer.from(JSON.stringify(imageConfig));
    const { digest: configDigest } = await store.blobs.writeBlob(configBytes);
    const layers = [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.sizeBytes }];
    const manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, digest: configDigest, size: configBytes.length },
      layers,
    };
    const { digest } = await store.blobs.writeBlob(Buffer.from(JSON.stringify(manifest)));
    return store.addImage(
      { digest, mediaType: MEDIA_TYPES.ociManifest, configDigest, config: imageConfig, layers, source: 'import' },
      names,
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
