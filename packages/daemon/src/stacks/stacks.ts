/**
 * Compose stacks in hyprd. The CLI loads and converts the compose files (@hypr/core/compose) and
 * sends the StackSpec; this orchestrates it on top of the container Orchestrator: images are built
 * or pulled, then each service's containers (`<project>-<service>-<n>`, with compose's labels) are
 * created and started as soon as their `depends_on` conditions hold, at most `bootConcurrency` VMs
 * booting at once. A container whose config hash is unchanged is kept, so a second `up` recreates
 * nothing. The stack (spec, files, project directory) is recorded in the `stacks` table, so it
 * outlives the CLI and a daemon restart; its containers are found again by their project label.
 */
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { HyprError, type HyprState, type Logger, containers, stacks } from '@hypr/core';
import { buildImage } from '@hypr/core/builder';
import type { StackService, StackSpec } from '@hypr/core/compose';
import { eq } from 'drizzle-orm';
import type { ContainerView, CreateContainerOptions, Orchestrator, RestartPolicyName } from '../containers/index.js';
import type { ImageManager } from '../images/index.js';

export const LABEL_PROJECT = 'com.docker.compose.project';
export const LABEL_SERVICE = 'com.docker.compose.service';
export const LABEL_NUMBER = 'com.docker.compose.container-number';
export const LABEL_HASH = 'com.docker.compose.config-hash';
export const LABEL_WORKING_DIR = 'com.docker.compose.project.working_dir';
export const LABEL_CONFIG_FILES = 'com.docker.compose.project.config_files';
export const LABEL_ONEOFF = 'com.docker.compose.oneoff';

/** One line of progress: `Container p-web-1  Started`. */
export interface StackEvent {
  kind: 'Container' | 'Network' | 'Volume' | 'Image' | 'Service' | '';
  name: string;
  status: string;
  message?: string;
  service?: string;
  warning?: boolean;
}

export type Emit = (e: StackEvent) => void;

/** What the `stacks.config` column holds. */
export interface StoredStack {
  spec: StackSpec;
  projectDir: string;
  configFiles: string[];
}

export interface UpOptions {
  projectDir: string;
  configFiles: string[];
  services: string[];
  build: '' | 'always' | 'never';
  forceRecreate: boolean;
  noRecreate: boolean;
  removeOrphans: boolean;
  noStart: boolean;
  noDeps: boolean;
  wait: boolean;
  waitTimeoutMs: number;
  pull: string;
}

export interface StackContainerView {
  view: ContainerView;
  service: string;
  number: number;
  labels: Record<string, string>;
}

export type ControlAction = 'start' | 'stop' | 'restart' | 'kill' | 'rm';

/** The parts of hyprd's NetworkManager a stack uses (set on the Orchestrator by the daemon). */
interface StackNetworkHooks {
  list(): { name: string }[];
  createNetwork(o: {
    name: string;
    subnet?: string;
    internal?: boolean;
    labels?: Record<string, string>;
  }): Promise<unknown>;
  removeNetwork(name: string): Promise<unknown>;
  connect(ref: unknown, running: boolean, name: string, o: { aliases?: string[]; ip?: string }): Promise<void>;
  ref(id: string): unknown;
}

/** The parts of hyprd's VolumeManager a stack uses. */
interface StackVolumeHooks {
  ensure(name: string, labels?: Record<string, string>): { created: boolean };
  exists(name: string): boolean;
  remove(name: string, o?: { force?: boolean }): Promise<void>;
}

const MiB = 1024 * 1024;
const HEALTH_POLL_MS = 250;

/** A counting semaphore: at most `n` holders at once. */
class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function isRunning(v: ContainerView): boolean {
  return v.row.state === 'running' || v.row.state === 'restarting';
}

/** The part of a service that decides whether its container must be recreated (not replicas). */
export function serviceConfigHash(svc: StackService, imageDigest: string | undefined): string {
  const { replicas: _r, dependsOn: _d, ...rest } = svc;
  return createHash('sha256')
    .update(JSON.stringify({ service: sortKeys(rest), image: imageDigest ?? '' }))
    .digest('hex');
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  return v;
}

/** docker's `-p` text for a compose port. */
function portText(p: StackService['ports'][number]): string {
  const host = p.hostPort === undefined ? '' : `${p.hostPort}${p.hostPortEnd ? `-${p.hostPortEnd}` : ''}`;
  const ip = p.hostIp ? `${p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp}:` : '';
  const prefix = host || ip ? `${ip}${host}:` : '';
  return `${prefix}${p.containerPort}/${p.protocol}`;
}

/** Services to act on: the named ones (all when none) plus, unless noDeps, what they depend on. */
export function selectServices(spec: StackSpec, names: readonly string[], noDeps = false): Set<string> {
  for (const n of names)
    if (!spec.services[n])
      throw new HyprError(
        'COMPOSE_NO_SUCH_SERVICE',
        `no such service: ${n}`,
        `services: ${Object.keys(spec.services).join(', ')}`,
      );
  if (!names.length) return new Set(Object.keys(spec.services));
  const out = new Set<string>();
  const add = (n: string) => {
    if (out.has(n) || !spec.services[n]) return;
    out.add(n);
    if (!noDeps) for (const d of spec.services[n].dependsOn) add(d.service);
  };
  for (const n of names) add(n);
  return out;
}

export class StackOrchestrator {
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly boots: Semaphore;

  constructor(
    private readonly state: HyprState,
    private readonly orchestrator: Orchestrator,
    private readonly images: ImageManager,
    private readonly stacksDir: string,
    private readonly logger: Logger,
    opts: { bootConcurrency?: number } = {},
  ) {
    this.boots = new Semaphore(opts.bootConcurrency ?? 2);
  }

  private get networks(): StackNetworkHooks | undefined {
    return (this.orchestrator as unknown as { network?: StackNetworkHooks }).network;
  }

  private get volumeHooks(): StackVolumeHooks | undefined {
    return (this.orchestrator as unknown as { volumes?: StackVolumeHooks }).volumes;
  }

  /**
   * Creates the project's networks (`<project>_default` and declared ones) that do not exist yet.
   * Returns false when hyprd runs without networking (not root): services then get no network.
   */
  private async ensureNetworks(spec: StackSpec, selected: Set<string>, emit: Emit): Promise<boolean> {
    const net = this.networks;
    if (!net) return false;
    const used = new Set<string>();
    for (const n of selected) for (const a of spec.services[n].networks) used.add(a.network);
    for (const key of used) {
      const n = spec.networks[key] ?? {
        key,
        name: `${spec.name}_${key}`,
        external: false,
        internal: false,
        subnets: [],
      };
      if (net.list().some((x) => x.name === n.name)) continue;
      if (n.external)
        throw new HyprError(
          'COMPOSE_NETWORK_NOT_FOUND',
          `network ${n.name} declared as external, but could not be found`,
          `hypr network create ${n.name}`,
        );
      emit({ kind: 'Network', name: n.name, status: 'Creating' });
      try {
        await net.createNetwork({
          name: n.name,
          ...(n.subnets[0] ? { subnet: n.subnets[0] } : {}),
          internal: n.internal,
          labels: { [LABEL_PROJECT]: spec.name, 'com.docker.compose.network': key },
        });
      } catch (e) {
        if ((e as HyprError).code !== 'NETWORK_UNAVAILABLE') throw e;
        emit({
          kind: '',
          name: spec.name,
          status: '',
          warning: true,
          message: `${(e as Error).message}: services run without a network`,
        });
        return false;
      }
      emit({ kind: 'Network', name: n.name, status: 'Created' });
    }
    return true;
  }

  /** Creates the project's named volumes (`<project>_<key>` unless named) that do not exist yet. */
  private ensureVolumes(spec: StackSpec, emit: Emit): void {
    const vols = this.volumeHooks;
    if (!vols) return;
    for (const [key, v] of Object.entries(spec.volumes)) {
      if (v.external) {
        if (!vols.exists(v.name))
          throw new HyprError(
            'COMPOSE_VOLUME_NOT_FOUND',
            `external volume "${v.name}" not found`,
            `hypr volume create ${v.name}`,
          );
        continue;
      }
      const { created } = vols.ensure(v.name, {
        ...v.labels,
        [LABEL_PROJECT]: spec.name,
        'com.docker.compose.volume': key,
      });
      if (created) emit({ kind: 'Volume', name: v.name, status: 'Created' });
    }
  }

  /** Runs operations on one project one after the other. */
  private async locked<T>(project: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(project) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(fn);
    this.locks.set(project, next);
    try {
      return await next;
    } finally {
      if (this.locks.get(project) === next) this.locks.delete(project);
    }
  }

  // ---- records ----

  record(name: string): StoredStack | undefined {
    const row = this.state.db.select().from(stacks).where(eq(stacks.name, name)).get();
    return row ? (JSON.parse(row.config) as StoredStack) : undefined;
  }

  private saveRecord(rec: StoredStack): void {
    const config = JSON.stringify(rec);
    this.state.db
      .insert(stacks)
      .values({ name: rec.spec.name, projectDir: rec.projectDir, config, createdAt: Date.now() })
      .onConflictDoUpdate({ target: stacks.name, set: { projectDir: rec.projectDir, config } })
      .run();
  }

  private dropRecord(name: string): void {
    this.state.db.delete(stacks).where(eq(stacks.name, name)).run();
  }

  /** The spec sent by the CLI, else the recorded one. */
  private specOf(name: string, specJson?: string): StackSpec {
    if (specJson) return parseSpec(specJson);
    const rec = this.record(name);
    if (!rec)
      throw new HyprError(
        'COMPOSE_NO_SUCH_PROJECT',
        `no such project: ${name}`,
        'run hypr compose in the project directory, or give -f / -p',
      );
    return rec.spec;
  }

  /** Every container of the project, by its labels. */
  containersOf(project: string): StackContainerView[] {
    const out: StackContainerView[] = [];
    for (const view of this.orchestrator.list({ all: true })) {
      const labels = JSON.parse(view.row.labels) as Record<string, string>;
      if (labels[LABEL_PROJECT] !== project) continue;
      out.push({ view, labels, service: labels[LABEL_SERVICE] ?? '', number: Number(labels[LABEL_NUMBER]) || 1 });
    }
    return out.sort((a, b) => a.service.localeCompare(b.service) || a.number - b.number);
  }

  list(all: boolean): { name: string; status: string; configFiles: string[]; projectDir: string }[] {
    const rows = this.state.db.select().from(stacks).all();
    const out = [];
    for (const r of rows) {
      const rec = JSON.parse(r.config) as StoredStack;
      const counts = new Map<string, number>();
      for (const c of this.containersOf(r.name)) counts.set(c.view.row.state, (counts.get(c.view.row.state) ?? 0) + 1);
      if (!all && !counts.get('running')) continue;
      const status = [...counts.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([s, n]) => `${s}(${n})`)
        .join(', ');
      out.push({ name: r.name, status, configFiles: rec.configFiles, projectDir: rec.projectDir });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  // ---- images ----

  private async ensureImages(
    spec: StackSpec,
    selected: Set<string>,
    opts: { build: '' | 'always' | 'never'; pull: string },
    emit: Emit,
  ): Promise<void> {
    const built = new Set<string>();
    for (const name of selected) {
      const svc = spec.services[name];
      const present = !!this.images.store.findImage(svc.image);
      const policy = opts.pull || svc.pullPolicy || 'missing';
      if (svc.build) {
        if (built.has(svc.build.tag)) continue;
        const must = opts.build === 'always' || policy === 'build' || !present;
        if (!must) continue;
        if (opts.build === 'never' && !present)
          throw new HyprError(
            'COMPOSE_IMAGE_NOT_BUILT',
            `service "${name}" has neither an image nor a build allowed: image ${svc.image} is missing and --no-build was given`,
            'run hypr compose build, or drop --no-build',
          );
        if (opts.build === 'never') continue;
        await this.buildService(spec, name, { noCache: false, pull: false, buildArgs: {} }, emit);
        built.add(svc.build.tag);
        continue;
      }
      if (policy === 'never') {
        if (!present)
          throw new HyprError(
            'IMAGE_NOT_FOUND',
            `service "${name}": image ${svc.image} is not present and pull_policy is never`,
            `hypr pull ${svc.image}`,
          );
        continue;
      }
      if (present && policy !== 'always') continue;
      await this.pullService(name, svc, emit);
    }
  }

  private async pullService(name: string, svc: StackService, emit: Emit): Promise<void> {
    emit({ kind: 'Image', name: svc.image, status: 'Pulling', service: name });
    await this.images.pull(svc.image, svc.platform ? { platform: svc.platform } : {});
    emit({ kind: 'Image', name: svc.image, status: 'Pulled', service: name });
  }

  private async buildService(
    spec: StackSpec,
    name: string,
    opts: { noCache: boolean; pull: boolean; buildArgs: Record<string, string> },
    emit: Emit,
  ): Promise<void> {
    const b = spec.services[name].build;
    if (!b) return;
    emit({ kind: 'Service', name, status: 'Building', service: name });
    const dockerfilePath = b.dockerfile
      ? isAbsolute(b.dockerfile)
        ? b.dockerfile
        : join(b.context, b.dockerfile)
      : undefined;
    await buildImage({
      contextDir: b.context,
      ...(b.dockerfileInline !== undefined ? { dockerfile: b.dockerfileInline } : {}),
      ...(dockerfilePath ? { dockerfilePath } : {}),
      tags: [b.tag],
      buildArgs: { ...b.args, ...opts.buildArgs },
      ...(b.target ? { target: b.target } : {}),
      noCache: opts.noCache || b.noCache,
      pull: opts.pull,
      labels: { ...b.labels, [LABEL_PROJECT]: spec.name, [LABEL_SERVICE]: name },
      store: this.images.store,
      registry: this.images.access(),
      logger: this.logger,
      onProgress: (ev) => {
        if (ev.type === 'step' && (ev.status === 'running' || ev.status === 'cached'))
          emit({
            kind: '',
            name,
            status: '',
            service: name,
            message: `${ev.status === 'cached' ? 'CACHED ' : ''}${ev.name}`,
          });
        else if (ev.type === 'log')
          for (const line of ev.data.toString().split('\n'))
            if (line) emit({ kind: '', name, status: '', service: name, message: line });
      },
    });
    emit({ kind: 'Service', name, status: 'Built', service: name });
  }

  build(
    specJson: string,
    services: string[],
    opts: { noCache: boolean; pull: boolean; buildArgs: Record<string, string> },
    emit: Emit,
  ): Promise<void> {
    const spec = parseSpec(specJson);
    return this.locked(spec.name, async () => {
      const selected = selectServices(spec, services, true);
      const done = new Set<string>();
      for (const name of selected) {
        const b = spec.services[name].build;
        if (!b || done.has(b.tag)) continue;
        await this.buildService(spec, name, opts, emit);
        done.add(b.tag);
      }
    });
  }

  pull(specJson: string, services: string[], ignoreFailures: boolean, emit: Emit): Promise<void> {
    const spec = parseSpec(specJson);
    return this.locked(spec.name, async () => {
      for (const name of selectServices(spec, services, true)) {
        const svc = spec.services[name];
        if (svc.build && !this.images.store.findImage(svc.image)) {
          emit({ kind: 'Service', name, status: 'Skipped', service: name, message: 'image is built' });
          continue;
        }
        try {
          await this.pullService(name, svc, emit);
        } catch (e) {
          if (!ignoreFailures) throw e;
          emit({
            kind: 'Image',
            name: svc.image,
            status: 'Error',
            service: name,
            message: (e as Error).message,
            warning: true,
          });
        }
      }
    });
  }

  // ---- up ----

  up(specJson: string, opts: UpOptions, emit: Emit): Promise<void> {
    const spec = parseSpec(specJson);
    return this.locked(spec.name, () => this.upLocked(spec, opts, emit));
  }

  private async upLocked(spec: StackSpec, opts: UpOptions, emit: Emit): Promise<void> {
    const project = spec.name;
    for (const w of spec.warnings)
      emit({ kind: '', name: w.service ?? '', status: '', message: `${w.path}: ${w.message}`, warning: true });
    const selected = selectServices(spec, opts.services, opts.noDeps);
    // Record first: a failed `up` is still a project `down` can clean and a second `up` finishes.
    this.saveRecord({ spec, projectDir: opts.projectDir, configFiles: opts.configFiles });
    await this.ensureImages(spec, selected, opts, emit);
    const networked = await this.ensureNetworks(spec, selected, emit);
    this.ensureVolumes(spec, emit);

    const existing = this.containersOf(project);
    const orphans = existing.filter((c) => !spec.services[c.service]);
    if (orphans.length) {
      if (opts.removeOrphans) await this.removeContainers(orphans, undefined, emit);
      else
        emit({
          kind: '',
          name: project,
          status: '',
          warning: true,
          message: `Found orphan containers (${orphans.map((o) => o.view.row.name).join(', ')}) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`,
        });
    }

    const ready = new Map<string, Promise<void>>();
    const converge = async (name: string): Promise<void> => {
      const svc = spec.services[name];
      for (const dep of svc.dependsOn) {
        if (!selected.has(dep.service) || opts.noStart) continue;
        try {
          await ready.get(dep.service);
          await this.waitForCondition(project, dep.service, dep.condition, emit);
        } catch (e) {
          if (!dep.required) {
            emit({
              kind: 'Service',
              name,
              status: '',
              warning: true,
              message: `optional dependency ${dep.service}: ${(e as Error).message}`,
            });
            continue;
          }
          throw new HyprError(
            'COMPOSE_DEPENDENCY_FAILED',
            `dependency failed to start: ${(e as Error).message}`,
            undefined,
            { cause: e },
          );
        }
      }
      await this.convergeService(spec, name, opts, networked, emit);
    };
    const order = spec.startOrder.flat().filter((n) => selected.has(n));
    for (const name of order) {
      const p = converge(name);
      p.catch(() => {});
      ready.set(name, p);
    }
    const results = await Promise.allSettled(order.map((n) => ready.get(n)));
    const failures = results
      .map((r, i) => ({ r, name: order[i] }))
      .filter((x): x is { r: PromiseRejectedResult; name: string } => x.r.status === 'rejected');
    if (failures.length) {
      // The root cause first: a failure that is not just a dependency failing.
      const root = failures.find((f) => (f.r.reason as HyprError).code !== 'COMPOSE_DEPENDENCY_FAILED') ?? failures[0];
      const err = HyprError.from(root.r.reason);
      throw new HyprError(
        err.code === 'COMPOSE_DEPENDENCY_FAILED' ? err.code : 'COMPOSE_SERVICE_FAILED',
        `service "${root.name}": ${err.message}`,
        err.hint ?? 'fix the service and run hypr compose up again: containers already up are kept',
        { cause: err },
      );
    }
    if (opts.wait && !opts.noStart) await this.waitAll(project, selected, opts.waitTimeoutMs, emit);
  }

  private createOptions(
    spec: StackSpec,
    svc: StackService,
    n: number,
    hash: string,
    opts: UpOptions,
    networked: boolean,
  ): CreateContainerOptions {
    const project = spec.name;
    const volumes: string[] = [];
    const tmpfs: string[] = [];
    for (const m of svc.mounts) {
      if (m.type === 'bind') volumes.push(`${m.source}:${m.target}${m.readOnly ? ':ro' : ''}`);
      else if (m.type === 'volume')
        volumes.push(m.source ? `${m.source}:${m.target}${m.readOnly ? ':ro' : ''}` : m.target);
      else {
        const o = [m.sizeBytes ? `size=${m.sizeBytes}` : '', m.mode !== undefined ? `mode=${m.mode.toString(8)}` : ''];
        tmpfs.push(o.some(Boolean) ? `${m.target}:${o.filter(Boolean).join(',')}` : m.target);
      }
    }
    for (const f of svc.files) {
      const src = f.sourceFile ?? join(this.stacksDir, project, `${f.kind}s`, f.name);
      volumes.push(`${src}:${f.target}:ro`);
    }
    const hc = svc.healthcheck;
    const labels: Record<string, string> = {
      ...svc.labels,
      [LABEL_PROJECT]: project,
      [LABEL_SERVICE]: svc.name,
      [LABEL_NUMBER]: String(n),
      [LABEL_HASH]: hash,
      [LABEL_ONEOFF]: 'False',
      [LABEL_WORKING_DIR]: opts.projectDir,
      [LABEL_CONFIG_FILES]: opts.configFiles.join(','),
    };
    const out: CreateContainerOptions = {
      image: svc.image,
      name: svc.containerName ?? `${project}-${svc.name}-${n}`,
      env: Object.entries(svc.env).map(([k, v]) => `${k}=${v}`),
      hostname: svc.hostname,
      labels,
      ports: svc.ports.map(portText),
      volumes,
      ...(tmpfs.length ? { tmpfs } : {}),
      restartPolicy: { name: svc.restart.policy as RestartPolicyName, maximumRetryCount: svc.restart.maxRetries ?? 0 },
      tty: svc.tty,
      openStdin: svc.stdinOpen,
      stopSignal: svc.stopSignal,
      stopTimeoutSeconds: Math.ceil(svc.stopGracePeriodMs / 1000),
    };
    if (networked) {
      const first = svc.networks[0];
      // `network` is the NetworkManager's option (networks.ts): the first network, then `connect` for the rest.
      (out as { network?: unknown }).network = first
        ? { network: first.name, aliases: first.aliases, ...(first.ipv4Address ? { ip: first.ipv4Address } : {}) }
        : { network: 'none' };
    }
    if (svc.entrypoint) {
      // The daemon's entrypoint is one word, as docker's --entrypoint; the rest goes before the command.
      out.entrypoint = svc.entrypoint[0] ?? '';
      out.command = [...svc.entrypoint.slice(1), ...(svc.command ?? [])];
    } else if (svc.command) out.command = svc.command;
    if (svc.workingDir) out.workdir = svc.workingDir;
    if (svc.user) out.user = svc.user;
    if (svc.resources.cpus) out.cpus = svc.resources.cpus;
    if (svc.resources.memoryMiB) out.memoryBytes = svc.resources.memoryMiB * MiB;
    if (hc === null) out.noHealthcheck = true;
    else if (hc)
      out.healthcheck = {
        test: hc.test,
        intervalMs: hc.intervalMs,
        timeoutMs: hc.timeoutMs,
        startPeriodMs: hc.startPeriodMs,
        retries: hc.retries,
      };
    return out;
  }

  /** Secrets and configs given inline (`content:`, `environment:`) become files under the stack's directory. */
  private async writeInlineFiles(project: string, svc: StackService): Promise<void> {
    for (const f of svc.files) {
      if (f.sourceFile || f.content === undefined) continue;
      const dir = join(this.stacksDir, project, `${f.kind}s`);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFile(join(dir, f.name), f.content, { mode: f.mode & 0o777 });
    }
  }

  private async convergeService(
    spec: StackSpec,
    name: string,
    opts: UpOptions,
    networked: boolean,
    emit: Emit,
  ): Promise<void> {
    const project = spec.name;
    const svc = spec.services[name];
    const image = this.images.store.findImage(svc.image);
    const hash = serviceConfigHash(svc, image?.digest);
    const mine = this.containersOf(project).filter((c) => c.service === name);
    await this.writeInlineFiles(project, svc);
    const tasks: Promise<void>[] = [];
    for (let n = 1; n <= svc.replicas; n++) {
      const current = mine.find((c) => c.number === n);
      tasks.push(
        (async () => {
          let id: string;
          let cname: string;
          const keep = current && (opts.noRecreate || (!opts.forceRecreate && current.labels[LABEL_HASH] === hash));
          if (current && keep) {
            id = current.view.row.id;
            cname = current.view.row.name;
            if (isRunning(current.view)) {
              emit({ kind: 'Container', name: cname, status: 'Running', service: name });
              return;
            }
          } else {
            if (current) {
              emit({ kind: 'Container', name: current.view.row.name, status: 'Recreate', service: name });
              await this.orchestrator.stop(current.view.row.id).catch(() => {});
              await this.orchestrator.remove(current.view.row.id, { force: true });
            }
            const o = this.createOptions(spec, svc, n, hash, opts, networked);
            emit({ kind: 'Container', name: o.name!, status: 'Creating', service: name });
            const created = await this.orchestrator.create(o);
            id = created.row.id;
            cname = created.row.name;
            this.state.db.update(containers).set({ stack: project }).where(eq(containers.id, id)).run();
            if (networked)
              for (const a of svc.networks.slice(1))
                await this.networks?.connect(this.networks.ref(id), false, a.name, {
                  aliases: a.aliases,
                  ...(a.ipv4Address ? { ip: a.ipv4Address } : {}),
                });
            emit({ kind: 'Container', name: cname, status: current ? 'Recreated' : 'Created', service: name });
          }
          if (opts.noStart) return;
          emit({ kind: 'Container', name: cname, status: 'Starting', service: name });
          await this.boots.run(() => this.orchestrator.start(id));
          emit({ kind: 'Container', name: cname, status: 'Started', service: name });
        })(),
      );
    }
    const extras = mine.filter((c) => c.number > svc.replicas);
    if (extras.length) tasks.push(this.removeContainers(extras, undefined, emit));
    const results = await Promise.allSettled(tasks);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Resolves once `service` meets a dependent's condition; throws when it never will. */
  private async waitForCondition(project: string, service: string, condition: string, emit: Emit): Promise<void> {
    if (condition === 'service_started') return;
    const targets = this.containersOf(project).filter((c) => c.service === service);
    await Promise.all(
      targets.map(async (c) => {
        const name = c.view.row.name;
        emit({ kind: 'Container', name, status: 'Waiting', service });
        if (condition === 'service_completed_successfully') {
          const exit = await this.orchestrator.wait(c.view.row.id, 'not-running');
          if (exit.exitCode !== 0)
            throw new HyprError(
              'COMPOSE_DEPENDENCY_FAILED',
              `service "${service}" didn't complete successfully: exit ${exit.exitCode}`,
              `hypr compose logs ${service}`,
            );
          emit({ kind: 'Container', name, status: 'Exited', service });
          return;
        }
        // service_healthy: the container's health, as its health checks report it.
        if (!c.view.config.healthcheck)
          throw new HyprError('COMPOSE_NO_HEALTHCHECK', `container ${name} has no healthcheck configured`);
        for (;;) {
          const v = this.orchestrator.inspect(c.view.row.id);
          if (v.row.health === 'healthy') break;
          if (v.row.health === 'unhealthy')
            throw new HyprError('COMPOSE_DEPENDENCY_FAILED', `container ${name} is unhealthy`);
          if (!isRunning(v))
            throw new HyprError('COMPOSE_DEPENDENCY_FAILED', `container ${name} exited (${v.row.exitCode ?? 0})`);
          await sleep(HEALTH_POLL_MS);
        }
        emit({ kind: 'Container', name, status: 'Healthy', service });
      }),
    );
  }

  /** `up --wait`: every container running (healthy when it has a health check) or exited 0. */
  private async waitAll(project: string, selected: Set<string>, timeoutMs: number, emit: Emit): Promise<void> {
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Number.POSITIVE_INFINITY;
    const pending = new Set(
      this.containersOf(project)
        .filter((c) => selected.has(c.service))
        .map((c) => c.view.row.id),
    );
    for (;;) {
      for (const id of [...pending]) {
        const v = this.orchestrator.inspect(id);
        const name = v.row.name;
        if (v.row.state === 'exited') {
          if (v.row.exitCode === 0) {
            pending.delete(id);
            emit({ kind: 'Container', name, status: 'Exited' });
            continue;
          }
          throw new HyprError(
            'COMPOSE_WAIT_FAILED',
            `container ${name} exited (${v.row.exitCode})`,
            'hypr compose logs',
          );
        }
        if (v.row.health === 'unhealthy') throw new HyprError('COMPOSE_WAIT_FAILED', `container ${name} is unhealthy`);
        if (v.row.state === 'running' && (!v.config.healthcheck || v.row.health === 'healthy')) {
          pending.delete(id);
          emit({ kind: 'Container', name, status: v.config.healthcheck ? 'Healthy' : 'Running' });
        }
      }
      if (!pending.size) return;
      if (Date.now() > deadline) throw new HyprError('COMPOSE_WAIT_TIMEOUT', 'timed out waiting for the services');
      await sleep(HEALTH_POLL_MS);
    }
  }

  // ---- down and control ----

  /** Stops (dependents first, each group in parallel) and removes containers. */
  private async removeContainers(
    list: StackContainerView[],
    timeoutSeconds: number | undefined,
    emit: Emit,
    order?: string[][],
    anonymousVolumes = false,
  ): Promise<void> {
    await this.stopContainers(list, timeoutSeconds, emit, order);
    await Promise.all(
      list.map(async (c) => {
        const name = c.view.row.name;
        emit({ kind: 'Container', name, status: 'Removing', service: c.service });
        await this.orchestrator.remove(c.view.row.id, { force: true, volumes: anonymousVolumes });
        emit({ kind: 'Container', name, status: 'Removed', service: c.service });
      }),
    );
  }

  private async stopContainers(
    list: StackContainerView[],
    timeoutSeconds: number | undefined,
    emit: Emit,
    order?: string[][],
  ): Promise<void> {
    const groups = reverseGroups(list, order);
    for (const group of groups)
      await Promise.all(
        group.map(async (c) => {
          const name = c.view.row.name;
          const live = this.orchestrator.inspect(c.view.row.id);
          if (!isRunning(live)) return;
          emit({ kind: 'Container', name, status: 'Stopping', service: c.service });
          await this.orchestrator.stop(c.view.row.id, timeoutSeconds === undefined ? {} : { timeoutSeconds });
          emit({ kind: 'Container', name, status: 'Stopped', service: c.service });
        }),
      );
  }

  down(
    name: string,
    opts: { specJson?: string; volumes: boolean; removeOrphans: boolean; timeoutSeconds?: number },
    emit: Emit,
  ): Promise<void> {
    return this.locked(name, async () => {
      let spec: StackSpec | undefined;
      try {
        spec = this.specOf(name, opts.specJson);
      } catch (e) {
        if (!this.containersOf(name).length) throw e;
      }
      const all = this.containersOf(name);
      const ours = spec ? all.filter((c) => spec.services[c.service]) : all;
      const orphans = spec ? all.filter((c) => !spec.services[c.service]) : [];
      if (orphans.length && !opts.removeOrphans)
        emit({
          kind: '',
          name,
          status: '',
          warning: true,
          message: `Found orphan containers (${orphans.map((o) => o.view.row.name).join(', ')}) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`,
        });
      const doomed = opts.removeOrphans ? [...ours, ...orphans] : ours;
      await this.removeContainers(doomed, opts.timeoutSeconds, emit, spec?.startOrder, opts.volumes);
      if (spec) await this.removeResources(spec, opts.volumes, emit);
      await rm(join(this.stacksDir, name), { recursive: true, force: true });
      if (!this.containersOf(name).length) this.dropRecord(name);
    });
  }

  /** down: the project's networks (not external ones), and with -v its named volumes. */
  private async removeResources(spec: StackSpec, volumes: boolean, emit: Emit): Promise<void> {
    const net = this.networks;
    const names = new Set<string>();
    for (const svc of Object.values(spec.services)) for (const a of svc.networks) names.add(a.name);
    for (const n of Object.values(spec.networks)) if (!n.external) names.add(n.name);
    for (const n of Object.values(spec.networks)) if (n.external) names.delete(n.name);
    if (net)
      for (const n of names) {
        if (!net.list().some((x) => x.name === n)) continue;
        emit({ kind: 'Network', name: n, status: 'Removing' });
        try {
          await net.removeNetwork(n);
          emit({ kind: 'Network', name: n, status: 'Removed' });
        } catch (e) {
          emit({ kind: 'Network', name: n, status: 'Error', message: (e as Error).message, warning: true });
        }
      }
    const vols = this.volumeHooks;
    if (!volumes || !vols) return;
    for (const v of Object.values(spec.volumes)) {
      if (v.external || !vols.exists(v.name)) continue;
      emit({ kind: 'Volume', name: v.name, status: 'Removing' });
      try {
        await vols.remove(v.name);
        emit({ kind: 'Volume', name: v.name, status: 'Removed' });
      } catch (e) {
        emit({ kind: 'Volume', name: v.name, status: 'Error', message: (e as Error).message, warning: true });
      }
    }
  }

  control(
    name: string,
    action: ControlAction,
    opts: { services: string[]; timeoutSeconds?: number; signal?: string; stopFirst?: boolean },
    emit: Emit,
  ): Promise<void> {
    return this.locked(name, async () => {
      const rec = this.record(name);
      const order = rec?.spec.startOrder;
      const all = this.containersOf(name);
      if (!all.length && !rec) throw new HyprError('COMPOSE_NO_SUCH_PROJECT', `no such project: ${name}`);
      for (const s of opts.services)
        if (rec && !rec.spec.services[s]) throw new HyprError('COMPOSE_NO_SUCH_SERVICE', `no such service: ${s}`);
      const list = opts.services.length ? all.filter((c) => opts.services.includes(c.service)) : all;
      switch (action) {
        case 'stop':
          return this.stopContainers(list, opts.timeoutSeconds, emit, order);
        case 'kill':
          await Promise.all(
            list
              .filter((c) => isRunning(this.orchestrator.inspect(c.view.row.id)))
              .map(async (c) => {
                emit({ kind: 'Container', name: c.view.row.name, status: 'Killing', service: c.service });
                await this.orchestrator.kill(c.view.row.id, opts.signal || 'SIGKILL');
                emit({ kind: 'Container', name: c.view.row.name, status: 'Killed', service: c.service });
              }),
          );
          return;
        case 'rm': {
          if (opts.stopFirst) await this.stopContainers(list, opts.timeoutSeconds, emit, order);
          const stopped = list.filter((c) => !isRunning(this.orchestrator.inspect(c.view.row.id)));
          await this.removeContainers(stopped, 0, emit);
          return;
        }
        case 'start':
        case 'restart': {
          if (action === 'restart') await this.stopContainers(list, opts.timeoutSeconds, emit, order);
          for (const group of forwardGroups(list, order))
            await Promise.all(
              group.map(async (c) => {
                if (isRunning(this.orchestrator.inspect(c.view.row.id))) return;
                emit({
                  kind: 'Container',
                  name: c.view.row.name,
                  status: action === 'restart' ? 'Restarting' : 'Starting',
                  service: c.service,
                });
                await this.boots.run(() => this.orchestrator.start(c.view.row.id));
                emit({ kind: 'Container', name: c.view.row.name, status: 'Started', service: c.service });
              }),
            );
          return;
        }
      }
    });
  }
}

/** Containers grouped by start order (services not in it last). */
function forwardGroups(list: StackContainerView[], order: string[][] | undefined): StackContainerView[][] {
  const groups: StackContainerView[][] = [];
  const placed = new Set<StackContainerView>();
  for (const g of order ?? []) {
    const these = list.filter((c) => g.includes(c.service));
    for (const c of these) placed.add(c);
    if (these.length) groups.push(these);
  }
  const rest = list.filter((c) => !placed.has(c));
  if (rest.length) groups.unshift(rest);
  return groups;
}

function reverseGroups(list: StackContainerView[], order: string[][] | undefined): StackContainerView[][] {
  return forwardGroups(list, order).reverse();
}

export function parseSpec(json: string): StackSpec {
  let spec: StackSpec;
  try {
    spec = JSON.parse(json) as StackSpec;
  } catch (e) {
    throw new HyprError('INVALID_ARGUMENT', 'the stack spec is not valid JSON', undefined, { cause: e });
  }
  if (!spec || typeof spec.name !== 'string' || !spec.services || !Array.isArray(spec.startOrder))
    throw new HyprError('INVALID_ARGUMENT', 'the stack spec lacks name, services or startOrder');
  return spec;
}
