/**
 * The container lifecycle: create, start, stop, kill, restart, remove, wait, list, inspect. The
 * state database is the source of truth (one writer: this daemon); each running container also
 * has a VmHandle from the runtime. Exits are processed in one place (onExit), which records the
 * exit code, applies --rm and the restart policy, and wakes waiters.
 */
import { EventEmitter } from 'node:events';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  HyprError,
  type HyprState,
  type ImageRecord,
  type Logger,
  containers,
  getRootfsDisk,
  resolveImageRunSpec,
} from '@hypr/core';
import { eq } from 'drizzle-orm';
import { AsyncQueue } from '../async-queue.js';
import type { DaemonConfig } from '../config/index.js';
import type { ImageManager } from '../images/index.js';
import type { ContainerNetworkOptions, NetworkManager } from '../networks/index.js';
import type { ResolvedMount, VolumeManager } from '../volumes/index.js';
import {
  type LogEntry,
  type LogStream,
  type ReadLogOptions,
  logSize,
  readContainerLog,
  rfc3339Nano,
} from './container-log.js';
import { prepareGuestMounts, resolveMounts } from './container-mounts.js';
import { containerStatus } from './container-status.js';
import { HealthMonitor, type HealthResult, healthArgv } from './health.js';
import { NAME_PATTERN, generateId, generateName } from './ids.js';
import {
  type Attachment,
  type ContainerRuntime,
  LOG_FILE,
  type VmConfig,
  type VmExit,
  type VmHandle,
} from './runtime/runtime.js';

/** A lifecycle event, as `docker events` shows it. */
export interface ContainerEvent {
  type: 'container';
  action: string;
  id: string;
  attributes: Record<string, string>;
  timeNano: bigint;
}

export type RestartPolicyName = 'no' | 'on-failure' | 'always' | 'unless-stopped';

export interface HealthcheckConfig {
  test: string[];
  intervalMs?: number;
  timeoutMs?: number;
  startPeriodMs?: number;
  retries?: number;
}

/** What `hypr create` / `run` ask for, after the CLI has parsed the flags. */
export interface CreateContainerOptions {
  image: string;
  name?: string;
  command?: string[];
  /** undefined keeps the image's; '' clears it. */
  entrypoint?: string;
  env?: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  labels?: Record<string, string>;
  cpus?: number;
  memoryBytes?: number;
  ports?: string[];
  volumes?: string[];
  /** --mount, --tmpfs and --volumes-from as given (see mount-spec.ts). */
  mounts?: string[];
  tmpfs?: string[];
  volumesFrom?: string[];
  restartPolicy?: { name: RestartPolicyName; maximumRetryCount?: number };
  autoRemove?: boolean;
  tty?: boolean;
  openStdin?: boolean;
  stopSignal?: string;
  stopTimeoutSeconds?: number;
  healthcheck?: HealthcheckConfig;
  noHealthcheck?: boolean;
  /** --network, --network-alias, --ip, -P (networks.ts). */
  network?: ContainerNetworkOptions;
}

/** What is stored in containers.config. */
export interface StoredContainerConfig {
  create: CreateContainerOptions;
  /** Entrypoint + Cmd resolved against the image. */
  argv: string[];
  path: string;
  args: string[];
  env: string[];
  workdir?: string;
  user?: string;
  hostname: string;
  stopSignal: string;
  stopTimeoutSeconds: number;
  cpus: number;
  memoryMiB: number;
  imageId: string;
  entrypoint: string[] | null;
  cmd: string[] | null;
  exposedPorts: Record<string, object>;
  healthcheck?: HealthcheckConfig;
  /** Resolved at create (volumes made, bind sources checked); mounted at each start. */
  mounts?: ResolvedMount[];
}

export type ContainerRow = typeof containers.$inferSelect;

export interface ContainerView {
  row: ContainerRow;
  config: StoredContainerConfig;
  status: string;
}

interface Live {
  handle: VmHandle;
  /** Resolves once the exit has been processed (state written, --rm and restart policy applied). */
  processed: Promise<VmExit>;
}

const SIGNALS = new Set([
  'SIGHUP',
  'SIGINT',
  'SIGQUIT',
  'SIGILL',
  'SIGTRAP',
  'SIGABRT',
  'SIGBUS',
  'SIGFPE',
  'SIGKILL',
  'SIGUSR1',
  'SIGSEGV',
  'SIGUSR2',
  'SIGPIPE',
  'SIGALRM',
  'SIGTERM',
  'SIGCHLD',
  'SIGCONT',
  'SIGSTOP',
  'SIGTSTP',
  'SIGTTIN',
  'SIGTTOU',
  'SIGURG',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGVTALRM',
  'SIGPROF',
  'SIGWINCH',
  'SIGIO',
  'SIGPWR',
  'SIGSYS',
]);
const SIGNAL_NUMBERS: Record<number, string> = {
  1: 'SIGHUP',
  2: 'SIGINT',
  3: 'SIGQUIT',
  9: 'SIGKILL',
  10: 'SIGUSR1',
  12: 'SIGUSR2',
  15: 'SIGTERM',
};

/** Normalises `TERM`, `sigterm`, `15` to `SIGTERM`. */
export function normalizeSignal(text: string): string {
  const t = text.trim().toUpperCase();
  if (/^\d+$/.test(t)) {
    const s = SIGNAL_NUMBERS[Number(t)];
    if (s) return s;
  } else {
    const s = t.startsWith('SIG') ? t : `SIG${t}`;
    if (SIGNALS.has(s)) return s;
  }
  throw new HyprError('INVALID_SIGNAL', `invalid signal: ${text}`, 'use a name such as SIGTERM or KILL, or a number');
}

/** Events kept for `events --since`. */
const RECENT_EVENTS = 1000;

const WRITABLE_DISK_MIB = 1024;

export class Orchestrator {
  readonly events = new EventEmitter();
  private readonly live = new Map<string, Live>();
  private readonly starting = new Map<string, Promise<void>>();
  private readonly disks = new Map<string, Promise<string>>();
  private readonly restartTimers = new Map<string, NodeJS.Timeout>();
  private readonly health = new Map<string, HealthMonitor>();
  private readonly recent: ContainerEvent[] = [];
  private closing = false;
  /** Networking hooks (NICs, published ports, DNS names); absent: containers get no network. */
  network?: NetworkManager;
  /** Named and anonymous volumes (set by the daemon); without it, containers cannot have volumes. */
  volumes?: VolumeManager;

  constructor(
    private readonly state: HyprState,
    private readonly images: ImageManager,
    private readonly runtime: ContainerRuntime,
    private readonly config: DaemonConfig,
    private readonly containersDir: string,
    private readonly logger: Logger,
  ) {
    this.events.setMaxListeners(0);
  }

  // ---- lookup ----

  private rows(): ContainerRow[] {
    return this.state.db.select().from(containers).all();
  }

  private row(id: string): ContainerRow | undefined {
    return this.state.db.select().from(containers).where(eq(containers.id, id)).get();
  }

  /** A container by full id, name (`web` or `/web`) or unique id prefix. */
  resolve(text: string): ContainerRow {
    const t = text.replace(/^\//, '');
    if (!t) throw new HyprError('CONTAINER_NOT_FOUND', 'No such container: (empty)');
    const all = this.rows();
    const exact = all.find((r) => r.id === t) ?? all.find((r) => r.name === t);
    if (exact) return exact;
    const matches = /^[a-f0-9]+$/.test(t) ? all.filter((r) => r.id.startsWith(t)) : [];
    if (matches.length === 1) return matches[0];
    if (matches.length > 1)
      throw new HyprError(
        'AMBIGUOUS_ID',
        `multiple containers match the prefix ${t}`,
        'give more characters of the id',
      );
    throw new HyprError('CONTAINER_NOT_FOUND', `No such container: ${text}`);
  }

  private view(row: ContainerRow): ContainerView {
    return { row, config: JSON.parse(row.config) as StoredContainerConfig, status: containerStatus(row) };
  }

  list(opts: { all?: boolean } = {}): ContainerView[] {
    return this.rows()
      .filter((r) => opts.all || r.state === 'running' || r.state === 'restarting')
      .sort((a, b) => b.createdAt - a.createdAt)
      .map((r) => this.view(r));
  }

  inspect(text: string): ContainerView {
    return this.view(this.resolve(text));
  }

  dirOf(row: ContainerRow): string {
    return row.dir ?? join(this.containersDir, row.id.slice(0, 12));
  }

  imageInUse(): Set<string> {
    return new Set(this.rows().map((r) => r.imageDigest));
  }

  private update(id: string, values: Partial<ContainerRow>): void {
    this.state.db.update(containers).set(values).where(eq(containers.id, id)).run();
  }

  // ---- create ----

  create(opts: CreateContainerOptions): ContainerView {
    const image = this.images.store.findImage(opts.image);
    if (!image)
      throw new HyprError('IMAGE_NOT_FOUND', `Unable to find image '${opts.image}' locally`, `hypr pull ${opts.image}`);
    if (opts.name !== undefined && !NAME_PATTERN.test(opts.name))
      throw new HyprError(
        'INVALID_NAME',
        `Invalid container name (${opts.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
      );
    if (opts.stopSignal) opts.stopSignal = normalizeSignal(opts.stopSignal);
    const config = this.resolveConfig(image, opts);
    // The directory is named by the short id: Unix socket paths (the shim's) are limited to 107 bytes.
    const shortIds = new Set(this.rows().map((r) => r.id.slice(0, 12)));
    let id = generateId();
    while (shortIds.has(id.slice(0, 12))) id = generateId();
    const dir = join(this.containersDir, id.slice(0, 12));
    const now = Date.now();
    // One synchronous transaction: the name check and the insert cannot interleave with another create.
    this.state.sqlite
      .transaction(() => {
        const taken = (n: string) => !!this.state.db.select().from(containers).where(eq(containers.name, n)).get();
        const name = opts.name ?? generateName(taken);
        const other = this.state.db.select().from(containers).where(eq(containers.name, name)).get();
        if (other)
          throw new HyprError(
            'CONTAINER_NAME_IN_USE',
            `Conflict. The container name "/${name}" is already in use by container "${other.id}". You have to remove (or rename) that container to be able to reuse that name.`,
          );
        // Inside the transaction: volume records made here go if the insert fails.
        const mounts = this.resolveContainerMounts(image, opts);
        this.state.db
          .insert(containers)
          .values({
            id,
            name,
            imageDigest: image.digest,
            imageRef: opts.image,
            config: JSON.stringify({ ...config, hostname: config.hostname || id.slice(0, 12), mounts }),
            state: 'created',
            dir,
            labels: JSON.stringify(opts.labels ?? {}),
            createdAt: now,
          })
          .run();
      })
      .immediate();
    this.logger.info({ id, image: opts.image }, 'container created');
    this.emitEvent('create', id);
    return this.view(this.row(id)!);
  }

  private resolveContainerMounts(image: ImageRecord, opts: CreateContainerOptions): ResolvedMount[] {
    const imageVolumes = Object.keys((image.config.config as { Volumes?: Record<string, object> })?.Volumes ?? {});
    const asked = [opts.volumes, opts.mounts, opts.tmpfs, opts.volumesFrom].some((l) => l?.length);
    if (!this.volumes) {
      if (asked) throw new HyprError('VOLUMES_NOT_SUPPORTED', 'this daemon has no volume manager');
      return [];
    }
    return resolveMounts(opts, {
      volumes: this.volumes,
      imageVolumes,
      mountsOf: (c) => config(this.resolve(c)).mounts ?? [],
    }).mounts;
  }

  private resolveConfig(image: ImageRecord, opts: CreateContainerOptions): StoredContainerConfig {
    const ic = image.config.config ?? {};
    const entrypoint = opts.entrypoint === undefined ? undefined : opts.entrypoint === '' ? [] : [opts.entrypoint];
    const run = resolveImageRunSpec(image.config, {
      command: opts.command,
      entrypoint,
      env: opts.env,
      workdir: opts.workdir,
      user: opts.user,
    });
    const cpus = opts.cpus && opts.cpus > 0 ? Math.max(1, Math.ceil(opts.cpus)) : this.config['default-cpus'];
    const memoryMiB =
      opts.memoryBytes && opts.memoryBytes > 0
        ? Math.max(32, Math.floor(opts.memoryBytes / 1024 / 1024))
        : this.config['default-memory-mib'];
    const imageHealth = (
      ic as {
        Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number };
      }
    ).Healthcheck;
    const healthcheck = opts.noHealthcheck
      ? undefined
      : (opts.healthcheck ??
        (imageHealth?.Test && imageHealth.Test[0] !== 'NONE'
          ? {
              test: imageHealth.Test,
              intervalMs: imageHealth.Interval ? imageHealth.Interval / 1e6 : undefined,
              timeoutMs: imageHealth.Timeout ? imageHealth.Timeout / 1e6 : undefined,
              startPeriodMs: imageHealth.StartPeriod ? imageHealth.StartPeriod / 1e6 : undefined,
              retries: imageHealth.Retries,
            }
          : undefined));
    const cmd = opts.command?.length ? opts.command : entrypoint ? null : (ic.Cmd ?? null);
    return {
      create: opts,
      argv: run.argv,
      path: run.argv[0],
      args: run.argv.slice(1),
      env: run.env,
      workdir: run.workdir,
      user: run.user,
      hostname: opts.hostname ?? '',
      stopSignal: opts.stopSignal ?? normalizeSignalOr((ic as { StopSignal?: string }).StopSignal, 'SIGTERM'),
      stopTimeoutSeconds: opts.stopTimeoutSeconds ?? this.config['stop-timeout'],
      cpus,
      memoryMiB,
      imageId: image.configDigest,
      entrypoint: entrypoint ?? ic.Entrypoint ?? null,
      cmd,
      exposedPorts: (ic as { ExposedPorts?: Record<string, object> }).ExposedPorts ?? {},
      ...(healthcheck ? { healthcheck } : {}),
    };
  }

  // ---- start ----

  async start(text: string): Promise<ContainerView> {
    const row = this.resolve(text);
    const pending = this.starting.get(row.id);
    if (pending) {
      await pending;
      return this.view(this.row(row.id)!);
    }
    if (row.state === 'running' && this.live.has(row.id)) return this.view(row);
    const p = this.startRow(row);
    this.starting.set(row.id, p);
    try {
      await p;
    } finally {
      this.starting.delete(row.id);
    }
    return this.view(this.row(row.id)!);
  }

  private async rootfsDisk(digest: string): Promise<string> {
    let p = this.disks.get(digest);
    if (!p) {
      const image = this.images.store.getImage(digest);
      if (!image) throw new HyprError('IMAGE_NOT_FOUND', `the image ${digest} of this container is gone`);
      p = getRootfsDisk(this.images.store, image, { logger: this.logger }).then((d) => d.path);
      this.disks.set(digest, p);
      p.catch(() => this.disks.delete(digest));
    }
    return p;
  }

  private async startRow(row: ContainerRow): Promise<void> {
    const config = JSON.parse(row.config) as StoredContainerConfig;
    const dir = this.dirOf(row);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const mounts = await prepareGuestMounts(config.mounts ?? [], {
      volumes: this.volumes,
      firstStart: !row.startedAt,
      rootfsDisk: () => this.rootfsDisk(row.imageDigest),
    });
    const vm: VmConfig = {
      rootfs: { disk: await this.rootfsDisk(row.imageDigest), type: 'ext4' },
      argv: config.argv,
      env: config.env,
      workdir: config.workdir,
      user: config.user,
      hostname: config.hostname,
      cpus: config.cpus,
      memoryMiB: config.memoryMiB,
      stopGraceMs: config.stopTimeoutSeconds * 1000,
      writableDisk: { path: join(dir, 'rw.ext4'), sizeMiB: WRITABLE_DISK_MIB },
      ...(mounts.length ? { mounts } : {}),
      ...(config.create.openStdin ? { stdin: true } : {}),
      ...(config.create.tty ? { tty: { rows: 24, cols: 80 } } : {}),
    };
    const net = await this.network?.beforeStart(row.id);
    if (net) Object.assign(vm, net);
    let handle: VmHandle;
    try {
      handle = await this.runtime.start(dir, vm);
    } catch (e) {
      await this.network?.afterExit(row.id);
      const err = HyprError.from(e);
      this.update(row.id, { state: 'exited', exitCode: 128, error: err.message, finishedAt: Date.now() });
      throw err;
    }
    this.update(row.id, {
      state: 'running',
      pid: handle.pid ?? null,
      startedAt: Date.now(),
      exitCode: 0,
      error: null,
      stoppedByUser: 0,
      finishedAt: null,
    });
    this.watch(row.id, handle);
    this.logger.info({ id: row.id, pid: handle.pid }, 'container started');
    this.emitEvent('start', row.id);
  }

  private watch(id: string, handle: VmHandle): void {
    const processed = handle.wait().then((exit) => this.onExit(id, exit));
    this.live.set(id, { handle, processed });
    this.watchHealth(id, handle);
  }

  /** Runs the container's health check, if it has one, while it runs. */
  private watchHealth(id: string, handle: VmHandle): void {
    this.health.get(id)?.stop();
    this.health.delete(id);
    const row = this.row(id);
    const cfg = row && config(row);
    const argv = cfg?.healthcheck && healthArgv(cfg.healthcheck.test);
    if (!cfg?.healthcheck || !argv || !handle.exec) return;
    const monitor = new HealthMonitor(
      cfg.healthcheck,
      argv,
      handle,
      { env: cfg.env, workdir: cfg.workdir, user: cfg.user },
      (status) => {
        this.update(id, { health: status });
        this.emitEvent(`health_status: ${status}`, id);
      },
      this.logger.child({ id, op: 'health' }),
    );
    this.health.set(id, monitor);
    this.update(id, { health: 'starting' });
    monitor.start();
  }

  /** The health check's recent results, for inspect. */
  healthOf(id: string): { failingStreak: number; log: HealthResult[] } | undefined {
    const m = this.health.get(id);
    return m ? { failingStreak: m.failingStreak, log: m.log } : undefined;
  }

  private async onExit(id: string, exit: VmExit): Promise<VmExit> {
    this.live.delete(id);
    this.health.get(id)?.stop();
    this.health.delete(id);
    this.lastExit.set(id, exit.exitCode);
    // Attached readers take the last output before anything (--rm) removes the log.
    this.events.emit('ended', id, exit);
    const drains = [...(this.drains.get(id) ?? [])];
    if (drains.length) await Promise.race([Promise.all(drains), new Promise((r) => setTimeout(r, 2000))]);
    const row = this.row(id);
    if (!row) return exit;
    const finishedAt = Date.parse(exit.finishedAt) || Date.now();
    const error = exit.guestError ?? exit.error ?? null;
    this.update(id, { state: 'exited', exitCode: exit.exitCode, error, pid: null, finishedAt });
    await this.network?.afterExit(id).catch((e) => this.logger.warn({ id, err: e }, 'network release failed'));
    this.logger.info({ id, exitCode: exit.exitCode, error }, 'container exited');
    this.emitEvent('die', id, { exitCode: String(exit.exitCode) });
    const config = JSON.parse(row.config) as StoredContainerConfig;
    if (this.closing) {
      this.events.emit('exit', id, exit);
      return exit;
    }
    if (config.create.autoRemove && row.state !== 'removing') {
      await this.removeRow(row.id, true).catch((e) => this.logger.warn({ id, err: e }, 'auto-remove failed'));
      this.events.emit('exit', id, exit);
      return exit;
    }
    if (this.shouldRestart(row, config, exit)) {
      this.update(id, { state: 'restarting' });
      const delayMs = Math.min(100 * 2 ** row.restartCount, 10_000);
      const timer = setTimeout(() => {
        this.restartTimers.delete(id);
        const current = this.row(id);
        if (!current || current.state !== 'restarting' || this.closing) return;
        this.update(id, { restartCount: current.restartCount + 1 });
        this.start(id).catch((e) => this.logger.warn({ id, err: e }, 'restart failed'));
      }, delayMs);
      this.restartTimers.set(id, timer);
    }
    this.events.emit('exit', id, exit);
    return exit;
  }

  private shouldRestart(row: ContainerRow, config: StoredContainerConfig, exit: VmExit): boolean {
    const policy = config.create.restartPolicy;
    if (!policy || policy.name === 'no' || row.stoppedByUser || row.state === 'removing') return false;
    if (policy.name === 'always' || policy.name === 'unless-stopped') return true;
    if (policy.name === 'on-failure') {
      const max = policy.maximumRetryCount ?? 0;
      return exit.exitCode !== 0 && (max === 0 || row.restartCount < max);
    }
    return false;
  }

  // ---- stop, kill, restart ----

  async stop(text: string, opts: { timeoutSeconds?: number; signal?: string } = {}): Promise<ContainerView> {
    const row = this.resolve(text);
    this.cancelRestart(row.id);
    await this.starting.get(row.id)?.catch(() => {});
    const live = this.live.get(row.id);
    if (!live) {
      if (row.state === 'restarting') this.update(row.id, { state: 'exited', stoppedByUser: 1 });
      return this.view(this.row(row.id) ?? row);
    }
    const config = JSON.parse(row.config) as StoredContainerConfig;
    const signal = opts.signal ? normalizeSignal(opts.signal) : config.stopSignal;
    const graceMs = (opts.timeoutSeconds ?? config.stopTimeoutSeconds) * 1000;
    this.update(row.id, { stoppedByUser: 1 });
    await live.handle.stop(signal, Math.max(0, graceMs)).catch(() => {});
    await live.processed;
    this.emitEvent('stop', row.id);
    return this.view(this.row(row.id) ?? row);
  }

  async kill(text: string, signal = 'SIGKILL'): Promise<ContainerView> {
    const row = this.resolve(text);
    const sig = normalizeSignal(signal);
    const live = this.live.get(row.id);
    if (!live || row.state !== 'running')
      throw new HyprError(
        'CONTAINER_NOT_RUNNING',
        `Cannot kill container: ${text}: container ${row.id} is not running`,
      );
    if (sig === 'SIGKILL' || sig === config(row).stopSignal) this.update(row.id, { stoppedByUser: 1 });
    live.handle.kill(sig);
    this.emitEvent('kill', row.id, { signal: sig });
    if (sig === 'SIGKILL') await live.processed;
    return this.view(this.row(row.id) ?? row);
  }

  async restart(text: string, timeoutSeconds?: number): Promise<ContainerView> {
    const row = this.resolve(text);
    await this.stop(row.id, { timeoutSeconds });
    const v = await this.start(row.id);
    this.emitEvent('restart', row.id);
    return v;
  }

  private cancelRestart(id: string): void {
    const t = this.restartTimers.get(id);
    if (t) clearTimeout(t);
    this.restartTimers.delete(id);
  }

  // ---- remove ----

  async remove(text: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<string> {
    const row = this.resolve(text);
    if ((row.state === 'running' || this.live.has(row.id)) && !opts.force)
      throw new HyprError(
        'CONTAINER_IS_RUNNING',
        `cannot remove container "/${row.name}": container is running: stop the container before removing or force remove`,
      );
    this.cancelRestart(row.id);
    this.update(row.id, { state: 'removing', stoppedByUser: 1 });
    const live = this.live.get(row.id);
    if (live) {
      live.handle.kill('SIGKILL');
      await Promise.race([live.processed, new Promise((r) => setTimeout(r, 5000))]);
      if (this.live.has(row.id)) await live.handle.stop('SIGKILL', 0).catch(() => {});
    }
    await this.removeRow(row.id, opts.volumes);
    return row.id;
  }

  /** Deletes the record and the directory; with `anonymousVolumes` (rm -v, --rm) its anonymous volumes too. */
  private async removeRow(id: string, anonymousVolumes = false): Promise<void> {
    const row = this.row(id);
    if (!row) return;
    await this.network?.removed(id).catch((e) => this.logger.warn({ id, err: e }, 'network release failed'));
    this.state.db.delete(containers).where(eq(containers.id, id)).run();
    // The shim may still be removing its socket as it ends: retry a non-empty directory.
    await rm(this.dirOf(row), { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    if (anonymousVolumes) await this.volumes?.removeAnonymous(config(row).mounts ?? []);
    this.logger.info({ id }, 'container removed');
    this.emitEvent('destroy', id, {}, row);
    this.events.emit('removed', id);
  }

  async prune(): Promise<string[]> {
    const deleted: string[] = [];
    for (const r of this.rows()) {
      if (r.state === 'exited' || r.state === 'created' || r.state === 'dead') {
        await this.removeRow(r.id);
        deleted.push(r.id);
      }
    }
    return deleted;
  }

  // ---- events ----

  /** Emits a docker-style event ('event' on this.events) with the container's name and image. */
  private emitEvent(action: string, id: string, attributes: Record<string, string> = {}, known?: ContainerRow): void {
    const row = known ?? this.row(id);
    const event: ContainerEvent = {
      type: 'container',
      action,
      id,
      attributes: { ...(row ? { name: row.name, image: row.imageRef } : {}), ...attributes },
      timeNano: BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n),
    };
    this.recent.push(event);
    if (this.recent.length > RECENT_EVENTS) this.recent.shift();
    this.events.emit('event', event);
  }

  /** The last events (for `events --since`), oldest first. */
  recentEvents(): readonly ContainerEvent[] {
    return this.recent;
  }

  // ---- wait, logs, attach ----

  /** Resolves with the exit of the container: at once when it is not running (`not-running`). */
  async wait(
    text: string,
    condition: 'not-running' | 'next-exit' | 'removed' = 'not-running',
    signal?: AbortSignal,
  ): Promise<{ exitCode: number; error?: string }> {
    const row = this.resolve(text);
    const running =
      this.live.has(row.id) || row.state === 'running' || row.state === 'restarting' || this.starting.has(row.id);
    if (condition === 'not-running' && !running) return { exitCode: row.exitCode ?? 0, error: row.error ?? undefined };
    return new Promise((resolve, reject) => {
      const onExit = (id: string, exit: VmExit) => {
        if (id !== row.id) return;
        if (condition === 'removed') return;
        const current = this.row(row.id);
        if (condition === 'not-running' && current?.state === 'restarting') return;
        done();
        resolve({ exitCode: exit.exitCode, error: exit.guestError ?? exit.error });
      };
      const onRemoved = (id: string) => {
        if (id !== row.id || condition !== 'removed') return;
        done();
        resolve({ exitCode: this.lastExit.get(id) ?? 0 });
      };
      const onAbort = () => {
        done();
        reject(new HyprError('ABORTED', 'wait cancelled'));
      };
      const done = () => {
        this.events.off('exit', onExit);
        this.events.off('removed', onRemoved);
        signal?.removeEventListener('abort', onAbort);
      };
      this.events.on('exit', onExit);
      this.events.on('removed', onRemoved);
      signal?.addEventListener('abort', onAbort);
    });
  }

  private readonly lastExit = new Map<string, number>();
  private readonly drains = new Map<string, Set<Promise<void>>>();

  /** A promise that settles when the container is no longer running (for following logs). */
  private stopped(id: string, signal?: AbortSignal): Promise<unknown> {
    return this.wait(id, 'not-running', signal).catch(() => undefined);
  }

  logs(text: string, opts: ReadLogOptions & { follow?: boolean; signal?: AbortSignal }): AsyncGenerator<LogEntry> {
    const row = this.resolve(text);
    const until = opts.follow ? this.stopped(row.id, opts.signal) : undefined;
    return readContainerLog(join(this.dirOf(row), LOG_FILE), { ...opts, until });
  }

  /**
   * Output from now on, then the exit: what `run` (attached), `start -a` and `attach` show. With
   * `start`, the container is started once the reader is in place, so no early output is missed.
   * Containers made with -i or -t are attached live (raw bytes, stdin and terminal size from `io`);
   * others are followed through their log, which never misses a line.
   */
  async *attach(
    text: string,
    opts: { start?: boolean; signal?: AbortSignal; io?: AttachIo } = {},
  ): AsyncGenerator<{ output?: LogEntry; exit?: { exitCode: number; error?: string }; started?: string }> {
    const row = this.resolve(text);
    const cfg = config(row);
    const interactive = Boolean(cfg.create.tty || cfg.create.openStdin);
    if (opts.io?.stdin && !cfg.create.openStdin)
      throw new HyprError(
        'ATTACH_STDIN_PRECONDITION',
        'the container was not created with -i: its stdin cannot be attached',
      );
    const path = join(this.dirOf(row), LOG_FILE);
    const fromOffset = await logSize(path);
    const once = (event: string) =>
      new Promise<{ exitCode: number; error?: string }>((resolve) => {
        const listener = (id: string, exit: VmExit) => {
          if (id !== row.id) return;
          this.events.off(event, listener);
          resolve({ exitCode: exit.exitCode, error: exit.guestError ?? exit.error });
        };
        this.events.on(event, listener);
      });
    const endedP = once('ended');
    const exitP = once('exit');
    let markDrained: () => void = () => {};
    const drained = new Promise<void>((r) => {
      markDrained = r;
    });
    let set = this.drains.get(row.id);
    if (!set) this.drains.set(row.id, (set = new Set()));
    set.add(drained);
    let attachment: Attachment | undefined;
    try {
      if (opts.start) await this.start(row.id);
      else if (!this.live.has(row.id))
        throw new HyprError('CONTAINER_NOT_RUNNING', 'You cannot attach to a stopped container, start it first');
      const live = this.live.get(row.id);
      yield { started: row.id };
      if (interactive && live?.handle.attach) {
        const q = new AsyncQueue<LogEntry>();
        const push = (stream: LogStream) => (b: Buffer) => q.push({ stream, log: '', bytes: b, time: rfc3339Nano() });
        const a = live.handle.attach({ onStdout: push('stdout'), onStderr: push('stderr') });
        attachment = a;
        if (opts.io?.size) a.resize(opts.io.size.rows, opts.io.size.cols);
        if (opts.io) void pumpInput(opts.io, a);
        void endedP.then(() => q.end());
        for await (const e of q.drain(opts.signal)) yield { output: e };
      } else {
        for await (const e of readContainerLog(path, { fromOffset, follow: true, until: endedP, signal: opts.signal }))
          yield { output: e };
      }
    } finally {
      attachment?.detach();
      markDrained();
      set.delete(drained);
      if (!set.size) this.drains.delete(row.id);
    }
    if (opts.signal?.aborted) return;
    yield { exit: await exitP };
  }

  /** docker exec: runs a program in the running container; yields its output, then its exit. */
  async *exec(
    text: string,
    o: {
      argv: string[];
      env?: string[];
      workdir?: string;
      user?: string;
      tty?: boolean;
      /** exec -d: answer once started. */
      detach?: boolean;
      io: AttachIo;
      signal?: AbortSignal;
    },
  ): AsyncGenerator<{ output?: LogEntry; exit?: { exitCode: number; error?: string } }> {
    const row = this.resolve(text);
    const live = this.live.get(row.id);
    if (!live || row.state !== 'running')
      throw new HyprError('CONTAINER_NOT_RUNNING', `Container ${row.id} is not running`);
    if (!live.handle.exec)
      throw new HyprError('EXEC_NOT_SUPPORTED', `exec is not supported by the ${this.runtime.name} runtime`);
    if (!o.argv.length) throw new HyprError('INVALID_ARGUMENT', 'no command given to exec');
    const cfg = config(row);
    const q = new AsyncQueue<LogEntry>();
    const push = (stream: LogStream) => (b: Buffer) => q.push({ stream, log: '', bytes: b, time: rfc3339Nano() });
    const session = live.handle.exec({
      argv: o.argv,
      env: [...cfg.env, ...(o.env ?? [])],
      workdir: o.workdir ?? cfg.workdir,
      user: o.user ?? cfg.user,
      tty: o.tty ? (o.io.size ?? { rows: 24, cols: 80 }) : undefined,
      onStdout: push('stdout'),
      onStderr: push('stderr'),
    });
    const done = session.wait();
    if (o.detach) {
      // Started, then left to run: the daemon's connection to the shim keeps the session alive.
      void done.then((r) => this.logger.debug({ id: row.id, argv: o.argv, ...r }, 'detached exec ended'));
      await session.started.catch(() => undefined);
      const early = await Promise.race([done, new Promise<undefined>((r) => setImmediate(() => r(undefined)))]);
      yield { exit: early?.error ? early : { exitCode: 0 } };
      return;
    }
    void done.then(() => q.end());
    const onAbort = () => session.signal('KILL');
    o.signal?.addEventListener('abort', onAbort);
    void pumpInput(o.io, session);
    try {
      for await (const e of q.drain(o.signal)) yield { output: e };
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
    }
    if (o.signal?.aborted) return;
    yield { exit: await done };
  }

  // ---- daemon start and stop ----

  /** Re-adopts VMs that outlived the previous daemon and records the exits of those that did not. */
  async reconcile(): Promise<{ adopted: string[]; exited: string[]; restarted: string[] }> {
    const out = { adopted: [] as string[], exited: [] as string[], restarted: [] as string[] };
    for (const row of this.rows()) {
      if (row.state === 'removing') {
        await this.removeRow(row.id);
        continue;
      }
      if (row.state !== 'running' && row.state !== 'restarting') continue;
      const dir = this.dirOf(row);
      const handle = await this.runtime.adopt(dir).catch(() => undefined);
      if (handle) {
        this.watch(row.id, handle);
        await this.network?.adopted(row.id);
        out.adopted.push(row.id);
        continue;
      }
      const exit = this.runtime.readExit(dir);
      await this.network?.afterExit(row.id).catch(() => {});
      this.update(row.id, {
        state: 'exited',
        pid: null,
        exitCode: exit?.exitCode ?? 255,
        error: exit ? (exit.guestError ?? exit.error ?? null) : 'the VM ended while hyprd was not running',
        finishedAt: exit ? Date.parse(exit.finishedAt) || Date.now() : Date.now(),
      });
      out.exited.push(row.id);
      const policy = config(row).create.restartPolicy?.name;
      if ((policy === 'always' || policy === 'unless-stopped') && !row.stoppedByUser) {
        this.start(row.id).catch((e) => this.logger.warn({ id: row.id, err: e }, 'restart on daemon start failed'));
        out.restarted.push(row.id);
      }
    }
    this.logger.info(out, 'reconciled');
    return out;
  }

  /** Daemon shutdown: detach from VMs when they outlive the daemon, else stop them. */
  async shutdown(graceMs = 5_000): Promise<void> {
    this.closing = true;
    for (const t of this.restartTimers.values()) clearTimeout(t);
    for (const m of this.health.values()) m.stop();
    const lives = [...this.live.entries()];
    if (this.runtime.durable) {
      for (const [, l] of lives) l.handle.close();
      return;
    }
    await Promise.all(
      lives.map(async ([id, l]) => {
        await l.handle.stop(config(this.row(id)!).stopSignal, graceMs).catch(() => {});
        await l.processed.catch(() => {});
      }),
    );
  }

  summaryCounts(): { total: number; running: number; stopped: number } {
    const rows = this.rows();
    const running = rows.filter((r) => r.state === 'running').length;
    return { total: rows.length, running, stopped: rows.length - running };
  }
}

/** What an attached client sends: its stdin, terminal size changes, the end of its stdin, signals. */
export interface AttachInput {
  stdin?: Uint8Array;
  resize?: { rows: number; cols: number };
  closeStdin?: boolean;
  signal?: string;
}

export interface AttachIo {
  /** Forward the client's stdin; its end closes the program's stdin. */
  stdin: boolean;
  size?: { rows: number; cols: number };
  input: AsyncIterable<AttachInput>;
}

async function pumpInput(
  io: AttachIo,
  target: { write(d: Buffer): void; end(): void; resize(r: number, c: number): void; signal?(s: string): void },
): Promise<void> {
  try {
    for await (const m of io.input) {
      if (m.stdin && io.stdin) target.write(Buffer.from(m.stdin));
      else if (m.resize) target.resize(m.resize.rows, m.resize.cols);
      else if (m.closeStdin && io.stdin) target.end();
      else if (m.signal) target.signal?.(m.signal);
    }
  } catch {
    /* the client went away */
  }
}

function config(row: ContainerRow): StoredContainerConfig {
  return JSON.parse(row.config) as StoredContainerConfig;
}

function normalizeSignalOr(text: string | undefined, fallback: string): string {
  if (!text) return fallback;
  try {
    return normalizeSignal(text);
  } catch {
    return fallback;
  }
}
