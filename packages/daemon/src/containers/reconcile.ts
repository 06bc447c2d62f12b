/**
 * Reconcile after a daemon restart, for every container directory whatever its row says: a VM that
 * outlived the previous hyprd is adopted again (also one whose row still says `created`: hyprd was
 * killed between the shim's start and the row becoming `running`); anything else left running for a
 * container is ended; the exits of VMs that ended meanwhile are recorded (from exit.json);
 * containers left half-removed are removed, and so are directories no row owns, and `--rm` containers
 * that ended meanwhile (docker's daemon removes them at its start too); `always` and `unless-stopped`
 * containers start again.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@hypr/core';
import type { ContainerLifecycle, ContainerNetworkHooks } from './lifecycle.js';
import { restartsWithDaemon } from './restart-policy.js';
import type { ContainerRuntime, VmHandle } from './runtime/runtime.js';
import { type ContainerStore, isUp, storedConfig } from './store.js';
import type { ContainerRow } from './types.js';

export interface ReconcileDeps {
  store: ContainerStore;
  runtime: ContainerRuntime;
  lifecycle: ContainerLifecycle;
  logger: Logger;
  network?: ContainerNetworkHooks;
  /** `$HYPR_HOME/containers`: a directory there that no row owns is cleaned up. */
  containersDir?: string;
}

export interface ReconcileResult {
  adopted: string[];
  exited: string[];
  restarted: string[];
}

export async function reconcileContainers(d: ReconcileDeps): Promise<ReconcileResult> {
  const out: ReconcileResult = { adopted: [], exited: [], restarted: [] };
  const rows = d.store.all();
  for (const row of rows.filter((r) => r.state === 'removing')) await d.lifecycle.removeRow(row.id);
  const rest = rows.filter((r) => r.state !== 'removing');
  // All at once: a shim still booting its VM is waited for, and several may be.
  const handles = await Promise.all(rest.map((r) => d.runtime.adopt(d.store.dirOf(r)).catch(() => undefined)));
  for (const [i, row] of rest.entries()) {
    const handle = handles[i];
    if (handle) {
      await adopt(d, row, handle);
      out.adopted.push(row.id);
      continue;
    }
    // Nothing of a container runs unowned: a hypervisor or virtiofsd left by a shim that died goes.
    const killed = await d.runtime.release(d.store.dirOf(row));
    if (!isUp(row.state)) {
      // A start cut short by the previous hyprd's death may have left its TAPs (the lease stays until rm).
      if (killed.length || row.state === 'created') await d.network?.afterExit(row.id).catch(() => {});
      // A --rm container whose VM ended while hyprd was stopping was recorded but not removed.
      if (row.state !== 'created' && autoRemoves(row)) await removeLeftover(d, row);
      continue;
    }
    await recordExitWhileAway(d, row);
    out.exited.push(row.id);
    if (autoRemoves(row)) {
      await removeLeftover(d, row);
      continue;
    }
    if (restartsWithDaemon(row, storedConfig(row))) {
      d.lifecycle.start(row.id).catch((e) => d.logger.warn({ id: row.id, err: e }, 'restart on daemon start failed'));
      out.restarted.push(row.id);
    }
  }
  await removeUnownedDirs(d, rows);
  d.logger.info(out, 'reconciled');
  return out;
}

async function adopt(d: ReconcileDeps, row: ContainerRow, handle: VmHandle): Promise<void> {
  if (!isUp(row.state)) {
    // The previous hyprd died before it recorded the start: the VM runs, so the container does.
    d.store.update(row.id, {
      state: 'running',
      pid: handle.pid ?? null,
      startedAt: Date.now(),
      exitCode: 0,
      error: null,
      finishedAt: null,
    });
    d.logger.info({ id: row.id, was: row.state }, 'adopted a VM whose start was not recorded');
  }
  d.lifecycle.watch(row.id, handle);
  await d.lifecycle.syncPaused(row.id, handle);
  await d.network?.adopted(row.id);
}

function autoRemoves(row: ContainerRow): boolean {
  return Boolean(storedConfig(row).create.autoRemove);
}

/**
 * A --rm container that ended while no hyprd could remove it goes now, as docker removes them when its
 * daemon starts (its anonymous volumes too, as `run --rm` does).
 */
async function removeLeftover(d: ReconcileDeps, row: ContainerRow): Promise<void> {
  await d.lifecycle
    .removeRow(row.id, true, { released: true })
    .then(() => d.logger.info({ id: row.id }, 'removed a --rm container that ended while hyprd was away'))
    .catch((e) => d.logger.warn({ id: row.id, err: e }, 'auto-remove failed'));
}

/** Directories under containers/ that no row owns (hyprd died while removing one): ended and deleted. */
async function removeUnownedDirs(d: ReconcileDeps, rows: readonly ContainerRow[]): Promise<void> {
  if (!d.containersDir) return;
  const owned = new Set(rows.map((r) => d.store.dirOf(r)));
  const entries = await readdir(d.containersDir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const dir = join(d.containersDir, e.name);
    if (!e.isDirectory() || owned.has(dir)) continue;
    await d.runtime.release(dir);
    await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    d.logger.info({ dir }, 'removed a container directory no container owns');
  }
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
