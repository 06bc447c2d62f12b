/**
 * The container lifecycle: start, stop, kill, restart, remove. Exits are processed in one place
 * (onExit), which records the exit code, applies --rm and the restart policy, and wakes waiters.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { HyprError, type Logger } from '@hypr/core';
import type { NetworkManager } from '../networks/index.js';
import type { VolumeManager } from '../volumes/index.js';
import { prepareGuestMounts } from './container-mounts.js';
import type { ContainerEvents } from './events.js';
import type { HealthWatch } from './health-watch.js';
import { RestartTimers, restartDelayMs, shouldRestart } from './restart-policy.js';
import type { RunningContainers } from './running.js';
import type { ContainerRuntime, VmExit, VmHandle } from './runtime/runtime.js';
import { normalizeSignal } from './signals.js';
import { type ContainerStore, storedConfig } from './store.js';
import type { ContainerRow, ContainerView } from './types.js';
import { type RootfsDisks, vmConfigOf } from './vm-config.js';

/** What the lifecycle asks of the network manager: NICs, published ports and DNS names around a run. */
export type ContainerNetworkHooks = Pick<
  NetworkManager,
  'validate' | 'beforeStart' | 'afterExit' | 'removed' | 'adopted'
>;

export interface LifecycleDeps {
  store: ContainerStore;
  events: ContainerEvents;
  running: RunningContainers;
  health: HealthWatch;
  runtime: ContainerRuntime;
  disks: RootfsDisks;
  logger: Logger;
  /** Absent: containers get no network. */
  network?: ContainerNetworkHooks;
  /** Absent: containers cannot have volumes. */
  volumes?: VolumeManager;
}

/** How long an exit waits for attached readers to take the last output before --rm removes the log. */
const DRAIN_MS = 2000;
/** How long rm -f waits for a killed VM's exit to be processed before ending it harder. */
const FORCE_REMOVE_WAIT_MS = 5000;
/** After an exit, how long the shim gets to finish by itself before what is left of it is killed. */
const EXIT_RELEASE_GRACE_MS = 3000;
/** How long an exit waits for the shim to close its connection (it does as it ends) before looking for its processes. */
const SHIM_GONE_WAIT_MS = 200;

export class ContainerLifecycle {
  private readonly restarts = new RestartTimers();
  private closing = false;
  /** Directories of removed containers being deleted after the removal was answered (see removeRow). */
  private readonly deleting = new Set<Promise<void>>();

  constructor(private readonly d: LifecycleDeps) {}

  // ---- start ----

  async start(text: string): Promise<ContainerView> {
    const { store, running } = this.d;
    const row = store.resolve(text);
    const pending = running.pendingStart(row.id);
    if (pending) {
      await pending;
      return store.fresh(row.id);
    }
    if (row.state === 'running' && running.has(row.id)) return store.view(row);
    await running.trackStart(row.id, this.startRow(row));
    return store.fresh(row.id);
  }

  private async startRow(row: ContainerRow): Promise<void> {
    const { store, disks } = this.d;
    const config = storedConfig(row);
    const dir = store.dirOf(row);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const mounts = await prepareGuestMounts(config.mounts ?? [], {
      volumes: this.d.volumes,
      firstStart: !row.startedAt,
      imageFiles: () => disks.filesOf(row.imageDigest),
    });
    const vm = vmConfigOf(config, dir, await disks.rootfsOf(row.imageDigest, mounts), mounts);
    const net = await this.d.network?.beforeStart(row.id);
    if (net) Object.assign(vm, net);
    let handle: VmHandle;
    try {
      handle = await this.d.runtime.start(dir, vm);
    } catch (e) {
      await this.d.runtime.release(dir);
      await this.d.network?.afterExit(row.id);
      const err = HyprError.from(e);
      store.update(row.id, { state: 'exited', exitCode: 128, error: err.message, finishedAt: Date.now() });
      throw err;
    }
    store.update(row.id, {
      state: 'running',
      pid: handle.pid ?? null,
      startedAt: Date.now(),
      exitCode: 0,
      error: null,
      stoppedByUser: 0,
      finishedAt: null,
    });
    this.watch(row.id, handle);
    this.d.logger.info({ id: row.id, pid: handle.pid }, 'container started');
    this.d.events.publish('start', row.id);
  }

  /** Holds `handle` as the VM of `id` (started now, or adopted after a daemon restart) until it exits. */
  watch(id: string, handle: VmHandle): void {
    const processed = handle.wait().then((exit) => this.onExit(id, exit, handle));
    this.d.running.set(id, { handle, processed });
    this.d.health.watch(id, handle);
  }

  /** After adoption: a pause outlives a daemon restart, so the VM says whether it is paused. */
  async syncPaused(id: string, handle: VmHandle): Promise<void> {
    const row = this.d.store.get(id);
    const paused = await handle.isPaused?.().catch(() => undefined);
    if (!row || paused === undefined || (row.state !== 'running' && row.state !== 'paused')) return;
    this.d.store.update(id, { state: paused ? 'paused' : 'running' });
    if (paused) this.d.health.stop(id);
  }

  // ---- exit ----

  private async onExit(id: string, exit: VmExit, handle: VmHandle): Promise<VmExit> {
    const { store, events, logger } = this.d;
    this.d.running.ended(id, exit.exitCode);
    this.d.health.stop(id);
    // Attached readers take the last output before anything (--rm) removes the log.
    events.ended(id, exit);
    await this.d.running.drained(id, DRAIN_MS);
    const row = store.get(id);
    if (!row) return exit;
    // The TAP and the address go only once nothing of the VM runs: a shim killed by -9 takes its
    // hypervisor down with it, but that takes a moment, and the hypervisor holds the TAP open. A shim
    // this daemon started that exited by itself has reaped all it started: nothing is left to look
    // for. Any other closes its connection as it goes: look for what is left once it has.
    const reaped = handle.endedByItself ? await within(handle.endedByItself(), SHIM_GONE_WAIT_MS) : false;
    if (reaped !== true) {
      if (handle.gone && reaped === false) await within(handle.gone(), SHIM_GONE_WAIT_MS);
      await this.d.runtime.release(store.dirOf(row), EXIT_RELEASE_GRACE_MS);
    }
    const finishedAt = Date.parse(exit.finishedAt) || Date.now();
    const error = exit.guestError ?? exit.error ?? null;
    store.update(id, { state: 'exited', exitCode: exit.exitCode, error, pid: null, finishedAt });
    await this.d.network?.afterExit(id).catch((e) => logger.warn({ id, err: e }, 'network release failed'));
    logger.info({ id, exitCode: exit.exitCode, error }, 'container exited');
    events.publish('die', id, { exitCode: String(exit.exitCode) });
    if (!this.closing) await this.applyExitPolicy(row, exit);
    events.exited(id, exit);
    return exit;
  }

  /** --rm removes the container; else its restart policy may schedule a restart. */
  private async applyExitPolicy(row: ContainerRow, exit: VmExit): Promise<void> {
    const config = storedConfig(row);
    const id = row.id;
    if (config.create.autoRemove && row.state !== 'removing') {
      // onExit has just released the VM's processes
      await this.removeRow(id, true, { released: true }).catch((e) =>
        this.d.logger.warn({ id, err: e }, 'auto-remove failed'),
      );
      return;
    }
    if (!shouldRestart(row, config, exit)) return;
    this.d.store.update(id, { state: 'restarting' });
    this.restarts.schedule(id, restartDelayMs(row.restartCount), () => {
      const current = this.d.store.get(id);
      if (!current || current.state !== 'restarting' || this.closing) return;
      this.d.store.update(id, { restartCount: current.restartCount + 1 });
      this.start(id).catch((e) => this.d.logger.warn({ id, err: e }, 'restart failed'));
    });
  }

  // ---- stop, kill, restart ----

  async stop(text: string, opts: { timeoutSeconds?: number; signal?: string } = {}): Promise<ContainerView> {
    const { store, running } = this.d;
    const row = store.resolve(text);
    this.restarts.cancel(row.id);
    await running.pendingStart(row.id)?.catch(() => {});
    const live = running.get(row.id);
    if (!live) {
      if (row.state === 'restarting') store.update(row.id, { state: 'exited', stoppedByUser: 1 });
      return store.fresh(row.id, row);
    }
    const config = storedConfig(row);
    const signal = opts.signal ? normalizeSignal(opts.signal) : config.stopSignal;
    const graceMs = (opts.timeoutSeconds ?? config.stopTimeoutSeconds) * 1000;
    store.update(row.id, { stoppedByUser: 1 });
    await live.handle.stop(signal, Math.max(0, graceMs)).catch(() => {});
    await live.processed;
    this.d.events.publish('stop', row.id);
    return store.fresh(row.id, row);
  }

  async kill(text: string, signal = 'SIGKILL'): Promise<ContainerView> {
    const { store } = this.d;
    const row = store.resolve(text);
    const sig = normalizeSignal(signal);
    const live = this.d.running.get(row.id);
    // A paused VM is resumed by the runtime before the signal, as docker does.
    if (!live || (row.state !== 'running' && row.state !== 'paused'))
      throw new HyprError(
        'CONTAINER_NOT_RUNNING',
        `Cannot kill container: ${text}: container ${row.id} is not running`,
      );
    if (sig === 'SIGKILL' || sig === storedConfig(row).stopSignal) store.update(row.id, { stoppedByUser: 1 });
    live.handle.kill(sig);
    this.d.events.publish('kill', row.id, { signal: sig });
    if (sig === 'SIGKILL') await live.processed;
    return store.fresh(row.id, row);
  }

  async restart(text: string, timeoutSeconds?: number): Promise<ContainerView> {
    const row = this.d.store.resolve(text);
    await this.stop(row.id, { timeoutSeconds });
    const v = await this.start(row.id);
    this.d.events.publish('restart', row.id);
    return v;
  }

  // ---- pause ----

  /** docker pause: freezes the whole VM; its health checks wait until it is resumed. */
  async pause(text: string): Promise<ContainerView> {
    const { store } = this.d;
    const row = store.resolve(text);
    const live = this.d.running.get(row.id);
    if (live && row.state === 'paused')
      throw new HyprError('CONTAINER_IS_PAUSED', `Container ${row.id} is already paused`, `hypr unpause ${row.name}`);
    if (!live || row.state !== 'running')
      throw new HyprError('CONTAINER_NOT_RUNNING', `Container ${row.id} is not running`);
    if (!live.handle.pause)
      throw new HyprError(
        'CONTAINER_PAUSE_NOT_SUPPORTED',
        `pause is not supported by the ${this.d.runtime.name} runtime`,
        'the QEMU adapter can pause a VM; other hypervisors cannot yet',
      );
    this.d.health.stop(row.id);
    await live.handle.pause();
    store.update(row.id, { state: 'paused' });
    this.d.events.publish('pause', row.id);
    return store.fresh(row.id, row);
  }

  /** docker unpause: resumes the VM where it stopped; health checks start again. */
  async unpause(text: string): Promise<ContainerView> {
    const { store } = this.d;
    const row = store.resolve(text);
    const live = this.d.running.get(row.id);
    if (!live || row.state !== 'paused' || !live.handle.resume)
      throw new HyprError('CONTAINER_NOT_PAUSED', `Container ${row.id} is not paused`);
    await live.handle.resume();
    store.update(row.id, { state: 'running' });
    this.d.health.watch(row.id, live.handle);
    this.d.events.publish('unpause', row.id);
    return store.fresh(row.id, row);
  }

  // ---- remove ----

  async remove(text: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<string> {
    const { store, running } = this.d;
    const row = store.resolve(text);
    if ((row.state === 'running' || running.has(row.id)) && !opts.force)
      throw new HyprError(
        'CONTAINER_IS_RUNNING',
        `cannot remove container "/${row.name}": container is running: stop the container before removing or force remove`,
      );
    this.restarts.cancel(row.id);
    store.update(row.id, { state: 'removing', stoppedByUser: 1 });
    const live = running.get(row.id);
    if (live) {
      live.handle.kill('SIGKILL');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([live.processed, new Promise((r) => (timer = setTimeout(r, FORCE_REMOVE_WAIT_MS)))]);
      clearTimeout(timer);
      if (running.has(row.id)) await live.handle.stop('SIGKILL', 0).catch(() => {});
    }
    await this.removeRow(row.id, opts.volumes);
    return row.id;
  }

  /**
   * Ends whatever still runs for the container (held by this hyprd or not), then deletes its TAPs,
   * leases, record and directory; with `anonymousVolumes` (rm -v, --rm) its anonymous volumes too.
   */
  async removeRow(id: string, anonymousVolumes = false, o: { released?: boolean } = {}): Promise<void> {
    const { store, logger } = this.d;
    const row = store.get(id);
    if (!row) return;
    if (!o.released) await this.d.runtime.release(store.dirOf(row));
    await this.d.network?.removed(id).catch((e) => logger.warn({ id, err: e }, 'network release failed'));
    store.delete(id);
    await this.deleteDir(store.dirOf(row));
    if (anonymousVolumes) await this.d.volumes?.removeAnonymous(storedConfig(row).mounts ?? []);
    logger.info({ id }, 'container removed');
    this.d.events.publish('destroy', id, {}, row);
    this.d.events.removed(id);
  }

  /**
   * Deletes a removed container's directory. Freeing its writable disk takes tens of ms (more on a
   * filesystem mounted with discard), so the directory is renamed out of the way (one call: the
   * container's files are gone from where anything looks) and deleted after the removal is answered.
   * A daemon that dies before that finds the renamed directory owned by no container at its next
   * start and deletes it then (reconcile); shutdown waits for the deletions under way.
   */
  private async deleteDir(dir: string): Promise<void> {
    const trash = join(dirname(dir), `.removed-${basename(dir)}-${Math.random().toString(36).slice(2, 8)}`);
    const moved = await rename(dir, trash).then(
      () => true,
      (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : false),
    );
    if (moved === undefined) return;
    // The shim may still be removing its socket as it ends: retry a non-empty directory.
    const deletion = rm(moved ? trash : dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    if (!moved) return deletion;
    const tracked = deletion
      .catch((e) => this.d.logger.warn({ dir: trash, err: e }, 'removed container directory not deleted'))
      .finally(() => this.deleting.delete(tracked));
    this.deleting.add(tracked);
  }

  async prune(): Promise<string[]> {
    const deleted: string[] = [];
    for (const r of this.d.store.all()) {
      if (r.state === 'exited' || r.state === 'created' || r.state === 'dead') {
        await this.removeRow(r.id);
        deleted.push(r.id);
      }
    }
    return deleted;
  }

  // ---- daemon stop ----

  /** Daemon shutdown: detach from VMs when they outlive the daemon, else stop them. */
  async shutdown(graceMs: number): Promise<void> {
    this.closing = true;
    this.restarts.cancelAll();
    this.d.health.stopAll();
    const lives = this.d.running.all();
    if (this.d.runtime.durable) {
      for (const [, l] of lives) l.handle.close();
      await Promise.all(this.deleting);
      return;
    }
    await Promise.all(
      lives.map(async ([id, l]) => {
        const row = this.d.store.get(id);
        await l.handle.stop(row ? storedConfig(row).stopSignal : 'SIGTERM', graceMs).catch(() => {});
        await l.processed.catch(() => {});
      }),
    );
    await Promise.all(this.deleting);
  }
}

/** Waits for `p`, but no longer than `ms`: its value, or undefined when it failed or took longer. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p.catch(() => undefined),
      new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
