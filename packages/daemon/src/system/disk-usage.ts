/**
 * docker system df: what images, containers, volumes and the build cache hold on disk. Images count
 * their layers (a layer two images share is "shared"); containers their directory (writable
 * layer, log); volumes their data; the build cache its layers.
 */
import type { ImageRecord } from '@hypr/core';
import type { ContainerView } from '../containers/index.js';
import { allocatedBytes } from './du.js';

export interface ImageUsage {
  id: string;
  repoTags: string[];
  createdAt: number;
  sizeBytes: number;
  sharedSizeBytes: number;
  uniqueSizeBytes: number;
  containers: number;
}

export interface ContainerUsage {
  id: string;
  name: string;
  image: string;
  command: string;
  createdAt: number;
  state: string;
  status: string;
  sizeBytes: number;
  localVolumes: number;
}

export interface VolumeUsage {
  name: string;
  links: number;
  sizeBytes: number;
}

export interface BuildCacheUsageEntry {
  id: string;
  type: string;
  sizeBytes: number;
  createdAt: number;
  lastUsedAt: number;
  shared: boolean;
  inUse: boolean;
}

export interface DiskUsage {
  images: ImageUsage[];
  containers: ContainerUsage[];
  volumes: VolumeUsage[];
  buildCache: BuildCacheUsageEntry[];
}

/** What disk usage reads, each part as narrow as it is used. */
export interface DiskUsageSources {
  images: { listImages(): ImageRecord[] };
  containers: { list(o: { all: boolean }): ContainerView[]; dirOf(row: ContainerView['row']): string };
  volumes?: { list(): { name: string; mountpoint: string; usedBy: unknown[] }[] };
  /** The build cache (hypr builder du); absent: reported empty. */
  buildCache?: () => {
    entries: { key: string; sizeBytes: number; createdAt: number; lastUsedAt: number; shared: boolean }[];
  };
}

export function imageUsage(images: readonly ImageRecord[], containers: readonly ContainerView[]): ImageUsage[] {
  const users = new Map<string, number>();
  for (const layer of images.flatMap((i) => i.layers)) users.set(layer.digest, (users.get(layer.digest) ?? 0) + 1);
  return images.map((img) => {
    const shared = img.layers.filter((l) => (users.get(l.digest) ?? 0) > 1).reduce((n, l) => n + l.size, 0);
    const sharedSizeBytes = Math.min(shared, img.sizeBytes);
    return {
      id: img.configDigest,
      repoTags: img.tags,
      createdAt: Date.parse(img.config.created ?? '') || img.createdAt,
      sizeBytes: img.sizeBytes,
      sharedSizeBytes,
      uniqueSizeBytes: img.sizeBytes - sharedSizeBytes,
      containers: containers.filter((c) => c.row.imageDigest === img.digest).length,
    };
  });
}

async function containerUsage(s: DiskUsageSources, views: readonly ContainerView[]): Promise<ContainerUsage[]> {
  const out: ContainerUsage[] = [];
  for (const { row, config, status } of views)
    out.push({
      id: row.id,
      name: row.name,
      image: row.imageRef,
      command: config.argv.join(' '),
      createdAt: row.createdAt,
      state: row.state,
      status,
      sizeBytes: await allocatedBytes(s.containers.dirOf(row)),
      localVolumes: (config.mounts ?? []).filter((m) => m.type === 'volume').length,
    });
  return out;
}

async function volumeUsage(s: DiskUsageSources): Promise<VolumeUsage[]> {
  const out: VolumeUsage[] = [];
  for (const v of s.volumes?.list() ?? [])
    out.push({ name: v.name, links: v.usedBy.length, sizeBytes: await allocatedBytes(v.mountpoint) });
  return out;
}

function buildCacheUsage(s: DiskUsageSources): BuildCacheUsageEntry[] {
  return (s.buildCache?.().entries ?? []).map((e) => ({
    id: e.key,
    type: 'regular',
    sizeBytes: e.sizeBytes,
    createdAt: e.createdAt,
    lastUsedAt: e.lastUsedAt,
    shared: e.shared,
    inUse: false,
  }));
}

export async function diskUsage(s: DiskUsageSources): Promise<DiskUsage> {
  const views = s.containers.list({ all: true });
  return {
    images: imageUsage(s.images.listImages(), views),
    containers: await containerUsage(s, views),
    volumes: await volumeUsage(s),
    buildCache: buildCacheUsage(s),
  };
}
