import { HyprError } from '../errors.js';
import type { ImageRecord } from '../image/image-store.js';
import { type ImageConfig, MEDIA_TYPES } from '../image/manifest.js';
import { sha256Digest } from '../image/store.js';
import { parseImageRef } from '../registry/reference.js';
import { epochTimestamp } from './image-config.js';
import type { BuildSession } from './session.js';
import { cloneConfig } from './stage-state.js';

/**
 * The last phase: the target stage becomes an image. Its config (with --label added) and an OCI
 * manifest of its layers are written as blobs, and the image is added to the store under its tags.
 * Every time in the config is the epoch, so the same layers give the same image id.
 */
export interface AssembledImage {
  /** Manifest digest. */
  digest: string;
  /** Config digest: the image id. */
  configDigest: string;
  image: ImageRecord;
}

function imageConfigOf(s: BuildSession): ImageConfig {
  const final = s.states.get(s.r.graph.target)!;
  const config = cloneConfig(final.config);
  const labels = s.opts.labels;
  if (labels && Object.keys(labels).length > 0) config.Labels = { ...(config.Labels ?? {}), ...labels };
  const host = s.r.host;
  return {
    created: epochTimestamp(s.epoch),
    architecture: host.architecture,
    os: host.os,
    ...(host.variant ? { variant: host.variant } : {}),
    config,
    rootfs: { type: 'layers', diff_ids: final.layers.map((l) => l.diffId) },
    history: final.history,
  } as ImageConfig;
}

export async function assembleImage(s: BuildSession): Promise<AssembledImage> {
  const final = s.states.get(s.r.graph.target)!;
  const imageConfig = imageConfigOf(s);
  const configBytes = Buffer.from(JSON.stringify(imageConfig));
  const { digest: configDigest } = await s.store.blobs.writeBlob(configBytes);
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.ociConfig, digest: configDigest, size: configBytes.length },
    layers: final.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.sizeBytes })),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const { digest } = await s.store.blobs.writeBlob(manifestBytes);
  const names = (s.opts.tags ?? []).map((t) => parseImageRef(t));
  const image = s.store.addImage(
    {
      digest,
      mediaType: MEDIA_TYPES.ociManifest,
      configDigest,
      config: imageConfig,
      layers: manifest.layers,
      source: 'build',
    },
    names,
  );
  if (sha256Digest(manifestBytes) !== digest) throw new HyprError('BUILD_INTERNAL', 'manifest digest mismatch');
  return { digest, configDigest, image };
}
