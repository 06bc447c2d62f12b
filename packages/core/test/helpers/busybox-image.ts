// Test helper: OCI images built from the host's static busybox, pushed to a registry with plain
// fetch (independent of the client under test), or written as an OCI layout for umoci/skopeo.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type ImageConfig, type ImageRuntimeConfig, MEDIA_TYPES } from '../../src/image/manifest.js';
import { type TarMemoryEntry, createTar } from '../../src/image/tar-writer.js';
import { runCommand } from '../../src/process.js';
import type { TestRegistry } from './registry.js';

export type LayerCompression = 'gzip' | 'zstd' | 'none';

export interface TestImage {
  manifest: Buffer;
  manifestDigest: string;
  manifestMediaType: string;
  config: ImageConfig;
  configDigest: string;
  /** Every blob by digest: config and layers. */
  blobs: Map<string, Buffer>;
  /** Layer digests in order. */
  layers: string[];
  diffIds: string[];
}

export const sha256 = (b: Uint8Array | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function compress(tar: Buffer, how: LayerCompression): Promise<Buffer> {
  if (how === 'none') return tar;
  if (how === 'gzip') return gzipSync(tar);
  const dir = await mkdtemp(join(tmpdir(), 'hypr-zstd-'));
  try {
    await writeFile(join(dir, 'l.tar'), tar);
    await runCommand('zstd', ['-q', '-3', join(dir, 'l.tar'), '-o', join(dir, 'l.tar.zst')], { packageHint: 'zstd' });
    return await readFile(join(dir, 'l.tar.zst'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const LAYER_TYPE: Record<LayerCompression, string> = {
  gzip: MEDIA_TYPES.ociLayerGzip,
  zstd: MEDIA_TYPES.ociLayerZstd,
  none: MEDIA_TYPES.ociLayer,
};

export interface BuildImageOptions {
  config?: ImageRuntimeConfig;
  architecture?: string;
  variant?: string;
  compression?: LayerCompression;
  /** Docker v2 schema 2 media types instead of OCI. */
  docker?: boolean;
}

/** Builds an image from layer archives (entries or ready tars). */
export async function buildImage(
  layers: readonly (readonly TarMemoryEntry[] | Buffer)[],
  opts: BuildImageOptions = {},
): Promise<TestImage> {
  const blobs = new Map<string, Buffer>();
  const descs: { mediaType: string; digest: string; size: number }[] = [];
  const diffIds: string[] = [];
  const how = opts.compression ?? 'gzip';
  for (const l of layers) {
    const tar = Buffer.isBuffer(l) ? l : createTar(l as TarMemoryEntry[]);
    diffIds.push(sha256(tar));
    const blob = await compress(tar, how);
    const digest = sha256(blob);
    blobs.set(digest, blob);
    descs.push({ mediaType: opts.docker ? MEDIA_TYPES.dockerLayerGzip : LAYER_TYPE[how], digest, size: blob.length });
  }
  const config: ImageConfig = {
    architecture: opts.architecture ?? (process.arch === 'arm64' ? 'arm64' : 'amd64'),
    os: 'linux',
    ...(opts.variant ? { variant: opts.variant } : {}),
    created: '2024-01-01T00:00:00Z',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], ...opts.config },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map(() => ({ created: '2024-01-01T00:00:00Z', created_by: 'hypr test' })),
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDigest = sha256(configBytes);
  blobs.set(configDigest, configBytes);
  const manifestMediaType = opts.docker ? MEDIA_TYPES.dockerManifest : MEDIA_TYPES.ociManifest;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: manifestMediaType,
      config: {
        mediaType: opts.docker ? MEDIA_TYPES.dockerConfig : MEDIA_TYPES.ociConfig,
        digest: configDigest,
        size: configBytes.length,
      },
      layers: descs,
    }),
  );
  return {
    manifest,
    manifestDigest: sha256(manifest),
    manifestMediaType,
    config,
    configDigest,
    blobs,
    layers: descs.map((d) => d.digest),
    diffIds,
  };
}

let applets: string[] | undefined;

/** The busybox root layer: /bin/busybox, a symlink per applet, /etc/passwd, /tmp, /root. */
export async function busyboxLayer(): Promise<TarMemoryEntry[]> {
  applets ??= (await runCommand('/bin/busybox', ['--list'])).stdout
    .split('\n')
    .filter((a) => /^[a-z0-9_.[-]+$/.test(a) && a !== 'busybox');
  const dir = (path: string, mode = 0o755): TarMemoryEntry => ({ path, type: 'directory', mode });
  return [
    dir('bin'),
    { path: 'bin/busybox', type: 'file', mode: 0o755, data: await readFile('/bin/busybox') },
    ...applets.map((a): TarMemoryEntry => ({ path: `bin/${a}`, type: 'symlink', linkpath: 'busybox' })),
    dir('dev'),
    dir('etc'),
    {
      path: 'etc/passwd',
      type: 'file',
      data: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n',
    },
    { path: 'etc/group', type: 'file', data: 'root:x:0:\nnobody:x:65534:\n' },
    dir('proc'),
    dir('root', 0o700),
    dir('sys'),
    dir('tmp', 0o1777),
    dir('usr'),
    { path: 'usr/bin', type: 'symlink', linkpath: '../bin' },
  ];
}

/** A busybox image, with optional extra layers on top. */
export async function buildBusyboxImage(
  opts: BuildImageOptions & { extraLayers?: TarMemoryEntry[][] } = {},
): Promise<TestImage> {
  return buildImage([await busyboxLayer(), ...(opts.extraLayers ?? [])], opts);
}

function authHeader(registry: TestRegistry): Record<string, string> {
  return registry.username
    ? { authorization: `Basic ${Buffer.from(`${registry.username}:${registry.password}`).toString('base64')}` }
    : {};
}

/** Uploads a blob monolithically (POST then PUT ?digest=). */
export async function pushTestBlob(registry: TestRegistry, repo: string, digest: string, data: Buffer): Promise<void> {
  const head = await fetch(`${registry.url}/v2/${repo}/blobs/${digest}`, {
    method: 'HEAD',
    headers: authHeader(registry),
  });
  if (head.ok) return;
  const start = await fetch(`${registry.url}/v2/${repo}/blobs/uploads/`, {
    method: 'POST',
    headers: authHeader(registry),
  });
  if (start.status !== 202) throw new Error(`upload start: ${start.status} ${await start.text()}`);
  const loc = new URL(start.headers.get('location')!, registry.url);
  loc.searchParams.set('digest', digest);
  const put = await fetch(loc, {
    method: 'PUT',
    body: data,
    headers: { ...authHeader(registry), 'content-type': 'application/octet-stream' },
  });
  if (put.status !== 201) throw new Error(`upload ${digest}: ${put.status} ${await put.text()}`);
}

export async function pushTestManifest(
  registry: TestRegistry,
  repo: string,
  reference: string,
  mediaType: string,
  body: Buffer,
): Promise<void> {
  const res = await fetch(`${registry.url}/v2/${repo}/manifests/${reference}`, {
    method: 'PUT',
    body,
    headers: { ...authHeader(registry), 'content-type': mediaType },
  });
  if (res.status !== 201) throw new Error(`manifest put: ${res.status} ${await res.text()}`);
}

/** Pushes an image as `repo:tag` (`name` is `repo:tag` without the registry host). */
export async function pushTestImage(registry: TestRegistry, name: string, image: TestImage): Promise<string> {
  const [repo, tag = 'latest'] = name.split(':');
  for (const [digest, data] of image.blobs) await pushTestBlob(registry, repo, digest, data);
  await pushTestManifest(registry, repo, tag, image.manifestMediaType, image.manifest);
  return `${registry.host}/${repo}:${tag}`;
}

/** Builds the busybox image and pushes it; returns the full reference and the image. */
export async function pushBusyboxImage(
  registry: TestRegistry,
  name = 'busybox:latest',
  opts: BuildImageOptions & { extraLayers?: TarMemoryEntry[][] } = {},
): Promise<{ ref: string; image: TestImage }> {
  const image = await buildBusyboxImage(opts);
  return { ref: await pushTestImage(registry, name, image), image };
}

/** Pushes several images under one tag as an OCI index, one per platform. */
export async function pushTestIndex(
  registry: TestRegistry,
  name: string,
  images: readonly { image: TestImage; platform: { os: string; architecture: string; variant?: string } }[],
): Promise<{ ref: string; indexDigest: string }> {
  const [repo, tag = 'latest'] = name.split(':');
  for (const { image } of images) {
    for (const [digest, data] of image.blobs) await pushTestBlob(registry, repo, digest, data);
    await pushTestManifest(registry, repo, image.manifestDigest, image.manifestMediaType, image.manifest);
  }
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: images.map(({ image, platform }) => ({
        mediaType: image.manifestMediaType,
        digest: image.manifestDigest,
        size: image.manifest.length,
        platform,
      })),
    }),
  );
  await pushTestManifest(registry, repo, tag, MEDIA_TYPES.ociIndex, index);
  return { ref: `${registry.host}/${repo}:${tag}`, indexDigest: sha256(index) };
}

/** Writes the image as an OCI image layout at `dir`, tagged `tag` (for umoci and skopeo). */
export async function writeTestOciLayout(dir: string, image: TestImage, tag = 'latest'): Promise<void> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  for (const [digest, data] of [...image.blobs, [image.manifestDigest, image.manifest] as const]) {
    await writeFile(join(dir, 'blobs', 'sha256', digest.slice(7)), data);
  }
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: image.manifestMediaType,
          digest: image.manifestDigest,
          size: image.manifest.length,
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
}
