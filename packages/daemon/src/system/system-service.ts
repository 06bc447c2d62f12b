/**
 * What `hypr info`, `hypr version` and `hypr events` report: the host, the guest (hypervisor,
 * accelerator, kernel, Kestrel), the daemon (version, data root, socket, runtime) and its counts.
 */
import { cpus, totalmem } from 'node:os';
import { API_VERSION } from '@hypr/api';
import type { ContainerEvent } from '../containers/index.js';
import { type EventQuery, type EventSource, streamEvents } from './event-stream.js';
import { type SystemFacts, guestFacts } from './system-info.js';

export interface SystemDeps {
  containers: { summaryCounts(): { total: number; running: number; stopped: number } };
  images: { listImages(): readonly unknown[] };
  events: EventSource;
  dataRoot: string;
  socket: string;
  serverVersion: string;
  runtimeName: string;
}

export interface SystemReport extends SystemFacts {
  os: string;
  architecture: string;
  cpus: number;
  memoryBytes: bigint;
}

export interface VersionReport {
  version: string;
  apiVersion: string;
  nodeVersion: string;
  os: string;
  arch: string;
}

export class SystemService {
  constructor(private readonly d: SystemDeps) {}

  async info(): Promise<SystemReport> {
    const counts = this.d.containers.summaryCounts();
    return {
      ...(await guestFacts()),
      dataRoot: this.d.dataRoot,
      socket: this.d.socket,
      containers: counts.total,
      containersRunning: counts.running,
      containersStopped: counts.stopped,
      images: this.d.images.listImages().length,
      serverVersion: this.d.serverVersion,
      runtime: this.d.runtimeName,
      os: process.platform,
      architecture: process.arch,
      cpus: cpus().length,
      memoryBytes: BigInt(totalmem()),
    };
  }

  version(): VersionReport {
    return {
      version: this.d.serverVersion,
      apiVersion: API_VERSION,
      nodeVersion: process.version,
      os: process.platform,
      arch: process.arch,
    };
  }

  events(q: EventQuery): AsyncGenerator<ContainerEvent> {
    return streamEvents(this.d.events, q);
  }
}
