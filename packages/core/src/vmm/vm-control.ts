/**
 * Live control of a running VM, as `hypr pause/unpause/stats` need it: freeze and thaw every vCPU,
 * and sample block I/O and guest memory. QEMU does it over QMP; a backend without it leaves
 * VmInstance.control out and the callers say so.
 */
import { HyprError } from '../errors.js';
import { type QmpClient, connectQmp } from './qmp.js';

export interface VmBlockStats {
  /** The hypervisor's drive id: disk0 is the image (read-only), the next the writable layer. */
  device: string;
  readBytes: number;
  writeBytes: number;
  readOps: number;
  writeOps: number;
}

export interface VmMemoryStats {
  /** What the guest uses: total minus available, as the guest's balloon driver reports them. */
  usedBytes: number;
  /** The VM's memory size (what `-m` gave it). */
  limitBytes: number;
}

export interface VmStats {
  blockIo: VmBlockStats[];
  /** Absent when the guest has not reported within ~5 s (the first sample waits for its first report). */
  memory?: VmMemoryStats;
}

export interface VmControl {
  /** Freezes every vCPU (Kestrel too). Idempotent. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  isPaused(): Promise<boolean>;
  stats(): Promise<VmStats>;
  close(): void;
}

/** The balloon device's QOM path: QemuAdapter gives it this id. */
export const BALLOON_ID = 'balloon0';

interface QmpBlockStats {
  device?: string;
  'node-name'?: string;
  qdev?: string;
  stats: { rd_bytes: number; wr_bytes: number; rd_operations: number; wr_operations: number };
}

interface QmpGuestStats {
  stats: Record<string, number>;
  'last-update': number;
}

/**
 * QMP control of one VM. By default one connection is kept for the control's life; `perRequest`
 * connects for each command and closes after, for clients that share a VM with others (QEMU serves
 * one QMP connection at a time: a second waits until the first closes).
 */
export function createQmpControl(socketPath: string, memoryMiB: number, o: { perRequest?: boolean } = {}): VmControl {
  let client: Promise<QmpClient> | undefined;
  let pollingOn = false;
  const qmp = async <T>(command: string, args?: Record<string, unknown>): Promise<T> => {
    if (o.perRequest) {
      // The socket exists from the hypervisor's start: a missing one is a VM not (or no longer) there.
      const c = await connectQmp(socketPath, { waitMs: 0 });
      try {
        return await c.execute<T>(command, args);
      } finally {
        c.close();
      }
    }
    client ??= connectQmp(socketPath);
    try {
      return await (await client).execute<T>(command, args);
    } catch (e) {
      client = undefined; // the next call reconnects (or fails the same way if the VM is gone)
      throw e;
    }
  };
  const memory = async (): Promise<VmMemoryStats | undefined> => {
    const path = `/machine/peripheral/${BALLOON_ID}`;
    if (!pollingOn) {
      // The guest sends statistics only while the host asks for them: from the first sample on.
      await qmp('qom-set', { path, property: 'guest-stats-polling-interval', value: 2 });
      pollingOn = true;
    }
    for (let attempt = 0; attempt < 20; attempt++) {
      const g = await qmp<QmpGuestStats>('qom-get', { path, property: 'guest-stats' });
      const total = g.stats['stat-total-memory'];
      const available = g.stats['stat-available-memory'] ?? g.stats['stat-free-memory'];
      if (g['last-update'] > 0 && total > 0 && available >= 0)
        return { usedBytes: Math.max(0, total - available), limitBytes: memoryMiB * 1024 * 1024 };
      await new Promise((r) => setTimeout(r, 250));
    }
    return undefined;
  };
  return {
    async pause() {
      await qmp('stop');
    },
    async resume() {
      await qmp('cont');
    },
    async isPaused() {
      const s = await qmp<{ running: boolean; status: string }>('query-status');
      return !s.running && s.status === 'paused';
    },
    async stats() {
      const blocks = await qmp<QmpBlockStats[]>('query-blockstats');
      const blockIo = blocks.map((b) => ({
        device: b.device || b['node-name'] || b.qdev || '',
        readBytes: b.stats.rd_bytes,
        writeBytes: b.stats.wr_bytes,
        readOps: b.stats.rd_operations,
        writeOps: b.stats.wr_operations,
      }));
      const mem = await memory().catch(() => undefined);
      return { blockIo, ...(mem ? { memory: mem } : {}) };
    },
    close() {
      void client?.then((c) => c.close()).catch(() => {});
      client = undefined;
    },
  };
}

export function controlUnsupported(backend: string): never {
  throw new HyprError(
    'VM_HYPERVISOR_FAILED',
    `${backend} VMs cannot be paused or sampled by HYPR yet`,
    'pause, unpause and stats need the QEMU backend (HYPR_VMM=qemu)',
  );
}
