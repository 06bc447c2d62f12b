import { HyprError } from '../errors.js';

// The media types live with the registry protocol (registry/media-types.ts), which must not import
// image/; they are re-exported here for the image code that names them.
import { MEDIA_TYPES } from '../registry/index.js';
export { MANIFEST_ACCEPT, MEDIA_TYPES } from '../registry/index.js';

export interface ImagePlatform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

export interface ImageDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: ImagePlatform;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: ImageDescriptor;
  layers: ImageDescriptor[];
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: ImageDescriptor[];
  annotations?: Record<string, string>;
}

/** The runtime part of an image config (OCI image-spec `config`). */
export interface ImageRuntimeConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number };
  ArgsEscaped?: boolean;
  Shell?: string[];
}

export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  author?: string;
  config?: ImageRuntimeConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean; author?: string }[];
}

export type ParsedManifest =
  | { kind: 'index'; mediaType: string; index: ImageIndex }
  | { kind: 'manifest'; mediaType: string; manifest: ImageManifest };

function bad(why: string): HyprError {
  return new HyprError('IMAGE_MANIFEST_INVALID', `invalid image manifest: ${why}`);
}

function checkDescriptor(d: unknown, where: string): ImageDescriptor {
  const o = d as ImageDescriptor;
  if (!o || typeof o !== 'object') throw bad(`${where} is not an object`);
  if (typeof o.digest !== 'string' || !/^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$/.test(o.digest)) {
    throw bad(`${where}.digest is not a digest`);
  }
  if (typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size < 0)
    throw bad(`${where}.size is not a size`);
  if (typeof o.mediaType !== 'string') throw bad(`${where}.mediaType is missing`);
  return o;
}

/**
 * Parses a manifest or index from its bytes. `mediaType` is the Content-Type the registry sent (or
 * the descriptor's); when absent the document's own mediaType field, then its shape, decide.
 */
export function parseManifest(bytes: Uint8Array | string, mediaType?: string): ParsedManifest {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw new HyprError('IMAGE_MANIFEST_INVALID', 'invalid image manifest: not JSON', undefined, { cause: e });
  }
  if (!doc || typeof doc !== 'object') throw bad('not an object');
  if (doc.schemaVersion !== 2) {
    throw new HyprError(
      'IMAGE_MANIFEST_UNSUPPORTED',
      `image manifest schema version ${String(doc.schemaVersion)} is not supported`,
      'only schema 2 (Docker v2.2 and OCI) manifests are supported; re-push the image with a current client',
    );
  }
  const type =
    (mediaType && mediaType !== 'application/json' && mediaType.split(';')[0].trim()) ||
    (typeof doc.mediaType === 'string'
      ? doc.mediaType
      : Array.isArray(doc.manifests)
        ? MEDIA_TYPES.ociIndex
        : MEDIA_TYPES.ociManifest);
  if (type === MEDIA_TYPES.ociIndex || type === MEDIA_TYPES.dockerManifestList) {
    if (!Array.isArray(doc.manifests)) throw bad('index without manifests');
    doc.manifests.forEach((m, i) => checkDescriptor(m, `manifests[${i}]`));
    return { kind: 'index', mediaType: type, index: doc as unknown as ImageIndex };
  }
  if (type === MEDIA_TYPES.ociManifest || type === MEDIA_TYPES.dockerManifest) {
    checkDescriptor(doc.config, 'config');
    if (!Array.isArray(doc.layers)) throw bad('manifest without layers');
    doc.layers.forEach((l, i) => checkDescriptor(l, `layers[${i}]`));
    return { kind: 'manifest', mediaType: type, manifest: doc as unknown as ImageManifest };
  }
  throw new HyprError(
    'IMAGE_MANIFEST_UNSUPPORTED',
    `manifest media type ${type} is not supported`,
    'HYPR reads OCI image manifests/indexes and Docker v2 schema 2 manifests/lists',
  );
}

const ARCH: Record<string, { architecture: string; variant?: string }> = {
  x64: { architecture: 'amd64' },
  arm64: { architecture: 'arm64', variant: 'v8' },
  arm: { architecture: 'arm', variant: 'v7' },
  ia32: { architecture: '386' },
  ppc64: { architecture: 'ppc64le' },
  s390x: { architecture: 's390x' },
  riscv64: { architecture: 'riscv64' },
};

/** The platform of this host, as an image names it (guests are Linux on every host). */
export function hostPlatform(): ImagePlatform {
  const a = ARCH[process.arch] ?? { architecture: process.arch };
  return { os: 'linux', ...a };
}

/** Parses `linux/arm64/v8`, `linux/amd64`, `arm64`. */
export function parsePlatform(text: string): ImagePlatform {
  const parts = text.split('/');
  if (parts.some((p) => p === '') || parts.length > 3) {
    throw new HyprError(
      'IMAGE_PLATFORM_INVALID',
      `invalid platform "${text}"`,
      'write OS/ARCH[/VARIANT], for example linux/arm64',
    );
  }
  if (parts.length === 1) return { os: 'linux', architecture: parts[0] };
  return parts[2]
    ? { os: parts[0], architecture: parts[1], variant: parts[2] }
    : { os: parts[0], architecture: parts[1] };
}

export function formatPlatform(p: ImagePlatform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

function normaliseVariant(p: ImagePlatform): string | undefined {
  if (p.architecture === 'arm64' && (p.variant === undefined || p.variant === 'v8')) return 'v8';
  return p.variant;
}

/** True when an image built for `candidate` runs on `wanted`. */
export function platformMatches(candidate: ImagePlatform, wanted: ImagePlatform): boolean {
  if (candidate.os !== wanted.os || candidate.architecture !== wanted.architecture) return false;
  const want = normaliseVariant(wanted);
  return want === undefined || normaliseVariant(candidate) === undefined || normaliseVariant(candidate) === want;
}

/** Picks the manifest for `platform` from an index; exact variant first. Throws IMAGE_PLATFORM_NOT_FOUND. */
export function selectPlatformManifest(index: ImageIndex, platform: ImagePlatform): ImageDescriptor {
  const candidates = index.manifests.filter(
    (m) =>
      m.platform &&
      m.mediaType !== 'application/vnd.in-toto+json' &&
      m.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest' &&
      platformMatches(m.platform, platform),
  );
  const exact = candidates.find((m) => normaliseVariant(m.platform!) === normaliseVariant(platform));
  const found = exact ?? candidates[0];
  if (!found) {
    const available = index.manifests
      .filter((m) => m.platform && m.platform.os !== 'unknown')
      .map((m) => formatPlatform(m.platform!));
    throw new HyprError(
      'IMAGE_PLATFORM_NOT_FOUND',
      `the image has no variant for ${formatPlatform(platform)} (it has: ${available.join(', ') || 'none'})`,
      'pass --platform with one of the listed platforms',
    );
  }
  return found;
}

/** Parses and checks an image config blob. */
export function parseImageConfig(bytes: Uint8Array | string): ImageConfig {
  let doc: ImageConfig;
  try {
    doc = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw new HyprError('IMAGE_CONFIG_INVALID', 'invalid image config: not JSON', undefined, { cause: e });
  }
  if (!doc || typeof doc !== 'object' || !doc.rootfs || !Array.isArray(doc.rootfs.diff_ids)) {
    throw new HyprError('IMAGE_CONFIG_INVALID', 'invalid image config: rootfs.diff_ids is missing');
  }
  return doc;
}

/** True for layer media types we can unpack (tar, gzip or zstd; docker and OCI spellings). */
export function isLayerMediaType(mediaType: string): boolean {
  return (
    mediaType.startsWith('application/vnd.oci.image.layer.') ||
    mediaType.startsWith('application/vnd.docker.image.rootfs.')
  );
}
