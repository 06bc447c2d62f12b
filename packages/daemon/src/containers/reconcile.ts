/**
 * Reconcile after a daemon restart: VMs that outlived the previous hyprd are adopted again, the
 * exits of those that ended meanwhile are recorded (from exit.json), containers left half-removed
 * are removed, and `always`/`unless-stopped` containers start again.
 */
import type { Logger } from '@hypr/core';
import type { ContainerLifecycle, ContainerNetworkHooks } from './lifecycle.js';
import { restartsWithDaemon } from './restart-policy.js';
import type { ContainerRuntime } from './runtime/runtime.js';
import { type ContainerStore, isUp, storedConfig } from './store.js';
import type { ContainerRow } from './types.js';

export interface ReconcileDeps {
  store: ContainerStore;
  runtime: ContainerRuntime;
  lifecycle: ContainerLifecycle;
  logger: Logger;
  network?: ContainerNetworkHooks;
}

export interface ReconcileResult {
  adopted: string[];
  exited: string[];
  restarted: string[];
}

export async function reconcileContainers(d: ReconcileDeps): Promise<ReconcileResult> {
  const out: ReconcileResult = { adopted: [], exited: [], restarted: [] };
  for (const row of d.store.all()) {
    if (row.state === 'removing') {
      await d.lifecycle.removeRow(row.id);
      continue;
    }
    if (!isUp(row.state)) continue;
    const handle = await d.runtime.adopt(d.store.dirOf(row)).catch(() => undefined);
    if (handle) {
      d.lifecycle.watch(row.id, handle);
      await d.lifecycle.syncPaused(row.id, handle);
      await d.network?.adopted(row.id);
      out.adopted.push(row.id);
      continue;
    }
    await recordExitWhileAway(d, row);
    out.exited.push(row.id);
    if (restartsWithDaemon(row, storedConfig(row))) {
      d.lifecycle.start(row.id).catch((e) => d.logger.warn({ id: row.id, err: e }, 'restart on daemon start failed'));
      out.restarted.push(row.id);
    }
  }
  d.logger.info(out, 'reconciled');
  return out;
}

/** The VM of `row` ended while hyprd was away: its exit from exit.json, else 255 with the reason. */
async function recordExitWhileAway(d: ReconcileDeps, row: ContainerRow): Promise<void> {
  const exit = d.runtime.readExit(d.store.dirOf(row));
  await d.network?.afterExit(row.id).catch(() => {});
  d.store.update(row.id, {
    state: 'exited',
    pid: null,
    exitCode: exit?.exitCode ?? 255,
    error: exit ? (exit.guestError ?? exit.error ?? null) : 'the VM ended while hyprd was not running',
    finishedAt: exit ? Date.parse(exit.finishedAt) || Date.now() : Date.now(),
  });
}
