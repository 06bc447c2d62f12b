// VolumeService: decode, call the volume manager, encode; no logic here.
import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import { type Volume, VolumeSchema, type VolumeService } from '@hypr/api';
import { type VolumeManager, type VolumeView, inspectVolume } from '../volumes/index.js';

export function toVolume(v: VolumeView): Volume {
  return create(VolumeSchema, {
    name: v.name,
    driver: v.driver,
    mountpoint: v.mountpoint,
    labels: v.labels,
    createdAt: BigInt(v.createdAt),
    anonymous: v.anonymous,
    usedBy: v.usedBy.map((u) => u.id),
  });
}

export function createVolumeService(volumes: VolumeManager): ServiceImpl<typeof VolumeService> {
  return {
    async create(req) {
      return {
        volume: toVolume(volumes.create(req.name || undefined, req.labels, { driver: req.driver || undefined })),
      };
    },
    async list(req) {
      return { volumes: volumes.list(req.filters).map(toVolume) };
    },
    async inspect(req) {
      const v = volumes.inspect(req.name);
      return { json: JSON.stringify(inspectVolume(v)), volume: toVolume(v) };
    },
    async remove(req) {
      await volumes.remove(req.name, { force: req.force });
      return {};
    },
    async prune(req) {
      const r = await volumes.prune({ all: req.all, filters: req.filters });
      return { deleted: r.deleted, reclaimedBytes: BigInt(r.reclaimedBytes) };
    },
  };
}
