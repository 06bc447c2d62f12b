// SystemService: decode, call the system service, encode; no logic here.
import type { ServiceImpl } from '@connectrpc/connect';
import type { SystemService as SystemApi } from '@hypr/api';
import type { SystemService } from '../system/index.js';

export function createSystemService(s: SystemService): ServiceImpl<typeof SystemApi> {
  return {
    async *events(req, ctx) {
      yield* s.events({ filters: req.filters, sinceNano: req.sinceNano, untilNano: req.untilNano, signal: ctx.signal });
    },
    async info() {
      return await s.info();
    },
    async version() {
      return s.version();
    },
    async ping() {
      return {};
    },
    async diskUsage() {
      const u = await s.diskUsage();
      return {
        images: u.images.map((i) => ({
          ...i,
          createdAt: BigInt(i.createdAt),
          sizeBytes: BigInt(i.sizeBytes),
          sharedSizeBytes: BigInt(i.sharedSizeBytes),
          uniqueSizeBytes: BigInt(i.uniqueSizeBytes),
        })),
        containers: u.containers.map((c) => ({ ...c, createdAt: BigInt(c.createdAt), sizeBytes: BigInt(c.sizeBytes) })),
        volumes: u.volumes.map((v) => ({ ...v, sizeBytes: BigInt(v.sizeBytes) })),
        buildCache: u.buildCache.map((b) => ({
          ...b,
          sizeBytes: BigInt(b.sizeBytes),
          createdAt: BigInt(b.createdAt),
          lastUsedAt: BigInt(b.lastUsedAt),
        })),
      };
    },
  };
}
