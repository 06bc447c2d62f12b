/**
 * What `hypr info`, `hypr version` and `hypr events` report: the host, the guest (hypervisor,
 * accelerator, kernel, Kestrel), the daemon (version, data root, socket, runtime) and its counts.
 */
import { cpus, totalmem } from 'node:os';
import { API_VERSION } from '@hypr/api';
import type { ContainerEvent } from '../containers/index.js';
import { type DiskUsage, type DiskUsageSources, diskUsage } from './disk-usage.js';
import { type EventQuery, type EventSource, streamEvents } from './event-stream.js';
import { type HostFacts, type SystemFacts, guestFacts, hostFacts } from './system-info.js';

export interface SystemDeps extends DiskUsageSources {
  containers: DiskUsageSources['containers'] & {
    summaryCounts(): { total: number; running: number; paused: number; stopped: number };
  };
  events: EventSource;
  dataRoot: string;
  socket: string;
  serverVersion: string;
  runtimeName: string;
  /** daemon.json's defaults for a container without --cpus / --memory. */
  defaults: { cpus: number; memoryMiB: number };
}

export interface SystemReport extends SystemFacts, HostFacts {
  containersPaused: number;
  os: string;
  architecture: string;
  cpus: number;
  memoryBytes: bigint;
  defaultCpus: number;
  defaultMemoryBytes: bigint;
  apiVersion: string;
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
      ...(await hostFacts()),
      dataRoot: this.d.dataRoot,
      socket: this.d.socket,
      containers: counts.total,
      containersRunning: counts.running,
      containersPaused: counts.paused,
      containersStopped: counts.stopped,
      images: this.d.images.listImages().length,
      serverVersion: this.d.serverVersion,
      apiVersion: API_VERSION,
      runtime: this.d.runtimeName,
      os: process.platform,
      architecture: process.arch,
      cpus: cpus().length,
      memoryBytes: BigInt(totalmem()),
      defaultCpus: this.d.defaults.cpus,
      defaultMemoryBytes: BigInt(this.d.defaults.memoryMiB) * 1024n * 1024n,
    };
  }

  /** docker system df. */
  diskUsage(): Promise<DiskUsage> {
    return diskUsage(this.d);
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
