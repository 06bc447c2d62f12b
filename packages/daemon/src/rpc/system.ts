// SystemService: what the daemon runs on and with.
import { cpus, totalmem } from 'node:os';
import type { ServiceImpl } from '@connectrpc/connect';
import { API_VERSION, type SystemService } from '@hypr/api';
import type { SystemFacts } from '../system-info.js';

export function createSystemService(facts: () => Promise<SystemFacts>): ServiceImpl<typeof SystemService> {
  return {
    async info() {
      const f = await facts();
      return {
        ...f,
        os: process.platform,
        architecture: process.arch,
        cpus: cpus().length,
        memoryBytes: BigInt(totalmem()),
      };
    },
    async version() {
      const f = await facts();
      return {
        version: f.serverVersion,
        apiVersion: API_VERSION,
        nodeVersion: process.version,
        os: process.platform,
        arch: process.arch,
      };
    },
    async ping() {
      return {};
    },
  };
}
