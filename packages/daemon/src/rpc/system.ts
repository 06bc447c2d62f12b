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
  };
}
