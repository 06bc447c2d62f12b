/**
 * The containers concern's service: one object the daemon builds with its typed dependencies and
 * the rest of hyprd (rpc/, stacks/) calls. It composes the parts, each in its own module:
 * store.ts (rows), create.ts + config-resolution.ts, lifecycle.ts + restart-policy.ts, io.ts +
 * exec.ts (logs, attach, exec), health-watch.ts, events.ts (the event ring), reconcile.ts.
 */
import type { EventEmitter } from 'node:events';
import type { HyprState, ImageStore, Logger, UnpackLimits } from '@hypr/core';
import type { NetworkManager } from '../networks/index.js';
import type { VolumeManager } from '../volumes/index.js';
import { type CommitDeps, type CommitOptions, commitContainer, diffContainer, exportContainer } from './commit.js';
import type { ContainerDefaults } from './config-resolution.js';
import type { LogEntry, ReadLogOptions } from './container-log.js';
import { type PathStat, copyFromContainer, copyToContainer, statPath } from './copy.js';
import { createContainer } from './create.js';
import { ContainerEvents } from './events.js';
import { type ExecRequest, execInContainer } from './exec.js';
import { HealthWatch } from './health-watch.js';
import type { HealthResult } from './health.js';
import { inspectContainer } from './inspect.js';
import { type AttachEvent, ContainerIo, type WaitCondition } from './io.js';
import { ContainerLifecycle } from './lifecycle.js';
import { filterContainers } from './ps-filter.js';
import { type ReconcileResult, reconcileContainers } from './reconcile.js';
import { RunningContainers } from './running.js';
import type { ContainerRuntime } from './runtime/runtime.js';
import { copyFromStopped } from './stopped-copy.js';
import { ContainerStore } from './store.js';
import { type ContainerStatsSample, type TopStatsDeps, statsRounds, topContainer } from './top-stats.js';
import type {
  AttachIo,
  ContainerEvent,
  ContainerRow,
  ContainerView,
  CreateContainerOptions,
  ExitStatus,
} from './types.js';
import { type UpdateDeps, type UpdateOptions, renameContainer, updateContainer } from './update.js';
import { RootfsDisks } from './vm-config.js';

export interface OrchestratorDeps {
  state: HyprState;
  /** Where images are found (create) and rootfs disks made (start). */
  images: ImageStore;
  runtime: ContainerRuntime;
  /** daemon.json's default-cpus, default-memory-mib, stop-timeout. */
  config: ContainerDefaults;
  /** `$HYPR_HOME/containers`. */
  containersDir: string;
  logger: Logger;
  /** Networking (NICs, published ports, DNS names); absent: containers get no network. */
  network?: NetworkManager;
  /** Named and anonymous volumes; absent: containers cannot have volumes. */
  volumes?: VolumeManager;
  /** daemon.json's unpack limits, for a disk made at start (the one made at pull obeys them too). */
  unpackLimits?: Partial<UnpackLimits>;
}

export class Orchestrator {
  /** Docker-style events ('event'), for the system service. */
  readonly events: EventEmitter;
  readonly network?: NetworkManager;
  readonly volumes?: VolumeManager;
  private readonly store: ContainerStore;
  private readonly ring: ContainerEvents;
  private readonly running = new RunningContainers();
  private readonly health: HealthWatch;
  private readonly lifecycle: ContainerLifecycle;
  private readonly io: ContainerIo;

  constructor(private readonly d: OrchestratorDeps) {
    this.network = d.network;
    this.volumes = d.volumes;
    this.store = new ContainerStore(d.state, d.containersDir);
    this.ring = new ContainerEvents((id) => this.store.get(id));
    this.events = this.ring.emitter;
    this.health = new HealthWatch(this.store, this.ring, d.logger);
    this.lifecycle = new ContainerLifecycle({
      store: this.store,
      events: this.ring,
      running: this.running,
      health: this.health,
      runtime: d.runtime,
      disks: new RootfsDisks(d.images, d.logger, d.unpackLimits),
      logger: d.logger,
      network: d.network,
      volumes: d.volumes,
    });
    this.io = new ContainerIo({
      store: this.store,
      events: this.ring,
      running: this.running,
      start: (id) => this.lifecycle.start(id),
    });
  }

  // ---- lookup ----

  /** A container by full id, name (`web` or `/web`) or unique id prefix. */
  resolve(text: string): ContainerRow {
    return this.store.resolve(text);
  }

  list(opts: { all?: boolean } = {}): ContainerView[] {
    return this.store.list(opts);
  }

  /** `ps`: newest first, docker's --filter keys applied, the first `last` when given. */
  ps(opts: { all?: boolean; filters?: readonly string[]; last?: number }): ContainerView[] {
    const filters = opts.filters ?? [];
    const last = opts.last ?? 0;
    const views = this.store.list({ all: opts.all || filters.length > 0 || last > 0 });
    const shown = filterContainers(views, filters, !!opts.all);
    return (last > 0 ? shown.slice(0, last) : shown).map((v) => this.withNetworks(v));
  }

  /** The names of the networks a container joins; `none` when it joins none (docker ps NETWORKS). */
  networksOf(id: string): string[] {
    const net = this.d.network;
    const ref = net?.ref(id);
    const names = ref ? Object.keys(net?.inspectSettings(ref).NetworkSettings.Networks ?? {}) : [];
    return names.length ? names : ['none'];
  }

  private withNetworks(v: ContainerView): ContainerView {
    return { ...v, networks: this.networksOf(v.row.id) };
  }

  inspect(text: string): ContainerView {
    return this.store.view(this.store.resolve(text));
  }

  /** The container's `docker inspect` document (the networking part is added by the network manager). */
  inspectDocument(text: string): { view: ContainerView; doc: Record<string, unknown> } {
    const view = this.withNetworks(this.inspect(text));
    return { view, doc: inspectContainer(view, this.store.dirOf(view.row), this.health.of(view.row.id)) };
  }

  dirOf(row: ContainerRow): string {
    return this.store.dirOf(row);
  }

  imageInUse(): Set<string> {
    return this.store.imagesInUse();
  }

  summaryCounts(): { total: number; running: number; paused: number; stopped: number } {
    return this.store.summaryCounts();
  }

  /** The health check's recent results, for inspect. */
  healthOf(id: string): { failingStreak: number; log: HealthResult[] } | undefined {
    return this.health.of(id);
  }

  /** The last events (for `events --since`), oldest first. */
  recentEvents(): readonly ContainerEvent[] {
    return this.ring.recent();
  }

  // ---- lifecycle ----

  /** Records a new container (no network checks: stacks create theirs on networks they made). */
  create(opts: CreateContainerOptions): ContainerView {
    return createContainer(
      {
        store: this.store,
        images: this.d.images,
        events: this.ring,
        defaults: this.d.config,
        logger: this.d.logger,
        volumes: this.d.volumes,
      },
      opts,
    );
  }

  /** `hypr create`: the network options checked first (network exists, host ports free), then create. */
  async createChecked(opts: CreateContainerOptions): Promise<ContainerView> {
    await this.d.network?.validate(opts);
    return this.create(opts);
  }

  start(text: string): Promise<ContainerView> {
    return this.lifecycle.start(text);
  }

  stop(text: string, opts: { timeoutSeconds?: number; signal?: string } = {}): Promise<ContainerView> {
    return this.lifecycle.stop(text, opts);
  }

  kill(text: string, signal = 'SIGKILL'): Promise<ContainerView> {
    return this.lifecycle.kill(text, signal);
  }

  restart(text: string, timeoutSeconds?: number): Promise<ContainerView> {
    return this.lifecycle.restart(text, timeoutSeconds);
  }

  remove(text: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<string> {
    return this.lifecycle.remove(text, opts);
  }

  prune(): Promise<string[]> {
    return this.lifecycle.prune();
  }

  pause(text: string): Promise<ContainerView> {
    return this.lifecycle.pause(text);
  }

  unpause(text: string): Promise<ContainerView> {
    return this.lifecycle.unpause(text);
  }

  /** docker rename. */
  rename(text: string, name: string): ContainerView {
    return renameContainer(this.updateDeps(), text, name);
  }

  /** docker update: --restart at any time; --memory / --cpus on a stopped container. */
  update(text: string, o: UpdateOptions): ContainerView {
    return updateContainer(this.updateDeps(), text, o);
  }

  private updateDeps(): UpdateDeps {
    return {
      store: this.store,
      events: this.ring,
      defaults: this.d.config,
      isLive: (id) => this.running.has(id) || !!this.running.pendingStart(id),
    };
  }

  // ---- io ----

  /** Resolves with the exit of the container: at once when it is not running (`not-running`). */
  wait(text: string, condition: WaitCondition = 'not-running', signal?: AbortSignal): Promise<ExitStatus> {
    return this.io.wait(text, condition, signal);
  }

  logs(text: string, opts: ReadLogOptions & { follow?: boolean; signal?: AbortSignal }): AsyncGenerator<LogEntry> {
    return this.io.logs(text, opts);
  }

  attach(
    text: string,
    opts: { start?: boolean; signal?: AbortSignal; io?: AttachIo } = {},
  ): AsyncGenerator<AttachEvent> {
    return this.io.attach(text, opts);
  }

  exec(text: string, o: ExecRequest): AsyncGenerator<Omit<AttachEvent, 'started'>> {
    const deps = { store: this.store, running: this.running, runtimeName: this.d.runtime.name, logger: this.d.logger };
    return execInContainer(deps, text, o);
  }

  // ---- cp, top, stats (copy.ts, top-stats.ts) ----

  statPath(text: string, path: string): Promise<PathStat | undefined> {
    return statPath(this.topStatsDeps(), text, path);
  }

  /** A running container through Kestrel; a stopped one from its image and writable layer. */
  copyFrom(text: string, path: string, followLink = false) {
    const row = this.store.resolve(text);
    const live = this.running.has(row.id) || row.state === 'running' || row.state === 'paused';
    if (!live && row.state !== 'restarting') return copyFromStopped(this.commitDeps(), row, path, followLink);
    return copyFromContainer(this.topStatsDeps(), text, path, followLink);
  }

  copyTo(text: string, dir: string, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    return copyToContainer(this.topStatsDeps(), text, dir, chunks);
  }

  top(text: string, psArgs: readonly string[] = []): Promise<{ titles: string[]; rows: string[][] }> {
    return topContainer(this.topStatsDeps(), text, psArgs);
  }

  /** docker stats: the named containers (each resolved now), else the running ones (with all, every one). */
  stats(
    o: { ids?: readonly string[]; all?: boolean; stream?: boolean; signal?: AbortSignal } = {},
  ): AsyncGenerator<ContainerStatsSample[]> {
    const named = (o.ids ?? []).map((t) => this.store.resolve(t));
    const select = () => (named.length ? named : this.store.list({ all: !!o.all }).map((v) => v.row));
    return statsRounds(this.topStatsDeps(), select, !!o.stream, o.signal);
  }

  // ---- commit, diff, export (commit.ts, writable-layer.ts) ----

  /** docker commit: the new image. */
  commit(text: string, o: CommitOptions = {}) {
    return commitContainer(this.commitDeps(), text, o);
  }

  diff(text: string): Promise<{ kind: 'A' | 'C' | 'D'; path: string }[]> {
    return diffContainer(this.commitDeps(), text);
  }

  export(text: string, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
    return exportContainer(this.commitDeps(), text, signal);
  }

  private commitDeps(): CommitDeps {
    return { store: this.store, running: this.running, logger: this.d.logger, images: this.d.images };
  }

  private topStatsDeps(): TopStatsDeps {
    return {
      store: this.store,
      running: this.running,
      runtimeName: this.d.runtime.name,
      logger: this.d.logger,
      tapsOf: (id) => {
        const net = this.d.network;
        const ref = net?.ref(id);
        const nets = (ref ? net?.inspectSettings(ref).NetworkSettings.Networks : undefined) ?? {};
        return Object.values(nets as Record<string, { EndpointID?: string }>)
          .map((n) => n.EndpointID ?? '')
          .filter(Boolean);
      },
    };
  }

  // ---- daemon start and stop ----

  /** Re-adopts VMs that outlived the previous daemon and records the exits of those that did not. */
  reconcile(): Promise<ReconcileResult> {
    const { runtime, logger, network } = this.d;
    return reconcileContainers({
      store: this.store,
      runtime,
      lifecycle: this.lifecycle,
      logger,
      network,
      containersDir: this.d.containersDir,
    });
  }

  /** Daemon shutdown: detach from VMs when they outlive the daemon, else stop them. */
  shutdown(graceMs = 5_000): Promise<void> {
    return this.lifecycle.shutdown(graceMs);
  }
}
