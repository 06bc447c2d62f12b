/**
 * `compose up`: makes the project's containers match the spec. Images, networks and volumes come
 * first (provisioner); then each service converges as soon as its depends_on conditions hold: a
 * replica whose config hash is unchanged is kept (started if stopped), a changed one is recreated,
 * extra replicas are removed. At most `boot` VMs boot at once.
 */
import { HyprError } from '@hypr/core';
import type { StackService, StackSpec } from '@hypr/core/compose';
import { replicaCreateOptions, writeInlineFiles } from './container-options.js';
import type { StackWaiter } from './depends-on.js';
import type { StackContainerOps } from './deps.js';
import type { StackTeardown } from './down.js';
import { LABEL_HASH } from './labels.js';
import { isRunning, orphanWarning, projectContainers, replicas } from './members.js';
import type { StackProvisioner } from './provisioner.js';
import { selectServices, serviceConfigHash, withScale } from './services.js';
import type { StackStore } from './store.js';
import type { Emit, StackContainerView, UpOptions } from './types.js';

export interface ConvergerDeps {
  containers: StackContainerOps;
  store: StackStore;
  provisioner: StackProvisioner;
  waiter: StackWaiter;
  teardown: StackTeardown;
  /** Runs a VM boot when a boot slot is free. */
  boot: <T>(fn: () => Promise<T>) => Promise<T>;
  stacksDir: string;
}

/** One `up` in progress: the spec, its options, and whether services get networks. */
interface UpRun {
  spec: StackSpec;
  opts: UpOptions;
  selected: Set<string>;
  networked: boolean;
  emit: Emit;
}

export class StackConverger {
  constructor(private readonly deps: ConvergerDeps) {}

  async up(given: StackSpec, opts: UpOptions, emit: Emit): Promise<void> {
    const spec = withScale(given, opts.scale);
    for (const w of spec.warnings)
      emit({ kind: '', name: w.service ?? '', status: '', message: `${w.path}: ${w.message}`, warning: true });
    const selected = selectServices(spec, opts.services, opts.noDeps);
    // Record first: a failed `up` is still a project `down` can clean and a second `up` finishes.
    this.deps.store.save({ spec, projectDir: opts.projectDir, configFiles: opts.configFiles });
    const { provisioner } = this.deps;
    await provisioner.ensureImages(spec, selected, opts, emit);
    const networked = await provisioner.ensureNetworks(spec, selected, emit);
    provisioner.ensureVolumes(spec, emit);
    await this.handleOrphans(spec, opts.removeOrphans, emit);
    await this.convergeInOrder({ spec, opts, selected, networked, emit });
    if (opts.wait && !opts.noStart) await this.deps.waiter.all(spec.name, selected, opts.waitTimeoutMs, emit);
  }

  /** Containers of services the spec no longer has: removed with --remove-orphans, else a warning. */
  private async handleOrphans(spec: StackSpec, remove: boolean, emit: Emit): Promise<void> {
    const orphans = projectContainers(this.deps.containers, spec.name).filter((c) => !spec.services[c.service]);
    if (!orphans.length) return;
    if (remove) await this.deps.teardown.remove(orphans, undefined, emit);
    else emit({ kind: '', name: spec.name, status: '', warning: true, message: orphanWarning(orphans) });
  }

  /** Every selected service converges once its dependencies are ready; the root failure is reported. */
  private async convergeInOrder(run: UpRun): Promise<void> {
    const ready = new Map<string, Promise<void>>();
    const order = run.spec.startOrder.flat().filter((n) => run.selected.has(n));
    for (const name of order) {
      const p = this.awaitDependencies(run, name, ready).then(() => this.convergeService(run, name));
      p.catch(() => {});
      ready.set(name, p);
    }
    const results = await Promise.allSettled(order.map((n) => ready.get(n)));
    const failures = results
      .map((r, i) => ({ r, name: order[i] }))
      .filter((x): x is { r: PromiseRejectedResult; name: string } => x.r.status === 'rejected');
    if (!failures.length) return;
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

  /** Waits for each depends_on condition; an optional dependency that fails is only a warning. */
  private async awaitDependencies(run: UpRun, name: string, ready: Map<string, Promise<void>>): Promise<void> {
    for (const dep of run.spec.services[name].dependsOn) {
      if (!run.selected.has(dep.service) || run.opts.noStart) continue;
      try {
        await ready.get(dep.service);
        await this.deps.waiter.condition(run.spec.name, dep.service, dep.condition, run.emit);
      } catch (e) {
        const message = (e as Error).message;
        if (!dep.required) {
          run.emit({
            kind: 'Service',
            name,
            status: '',
            warning: true,
            message: `optional dependency ${dep.service}: ${message}`,
          });
          continue;
        }
        throw new HyprError('COMPOSE_DEPENDENCY_FAILED', `dependency failed to start: ${message}`, undefined, {
          cause: e,
        });
      }
    }
  }

  /** Replicas 1..n kept or (re)created and started; replicas past n removed. */
  private async convergeService(run: UpRun, name: string): Promise<void> {
    const svc = run.spec.services[name];
    const hash = serviceConfigHash(svc, this.deps.provisioner.imageDigest(svc.image));
    const mine = replicas(projectContainers(this.deps.containers, run.spec.name)).filter((c) => c.service === name);
    await writeInlineFiles(this.deps.stacksDir, run.spec.name, svc);
    const tasks: Promise<void>[] = [];
    for (let n = 1; n <= svc.replicas; n++)
      tasks.push(
        this.convergeReplica(
          run,
          svc,
          n,
          hash,
          mine.find((c) => c.number === n),
        ),
      );
    const extras = mine.filter((c) => c.number > svc.replicas);
    if (extras.length) tasks.push(this.deps.teardown.remove(extras, undefined, run.emit));
    const results = await Promise.allSettled(tasks);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async convergeReplica(
    run: UpRun,
    svc: StackService,
    n: number,
    hash: string,
    current: StackContainerView | undefined,
  ): Promise<void> {
    const { opts, emit } = run;
    const keep = current && (opts.noRecreate || (!opts.forceRecreate && current.labels[LABEL_HASH] === hash));
    let target: { id: string; name: string };
    if (current && keep) {
      target = { id: current.view.row.id, name: current.view.row.name };
      if (isRunning(current.view)) {
        emit({ kind: 'Container', name: target.name, status: 'Running', service: svc.name });
        return;
      }
    } else target = await this.create(run, svc, n, hash, current);
    if (opts.noStart) return;
    emit({ kind: 'Container', name: target.name, status: 'Starting', service: svc.name });
    await this.deps.boot(() => this.deps.containers.start(target.id));
    emit({ kind: 'Container', name: target.name, status: 'Started', service: svc.name });
  }

  /** Creates replica `n` (removing `current` first when it is being recreated). */
  private async create(
    run: UpRun,
    svc: StackService,
    n: number,
    hash: string,
    current: StackContainerView | undefined,
  ): Promise<{ id: string; name: string }> {
    const { containers } = this.deps;
    const { spec, opts, emit } = run;
    if (current) {
      emit({ kind: 'Container', name: current.view.row.name, status: 'Recreate', service: svc.name });
      await containers.stop(current.view.row.id).catch(() => {});
      await containers.remove(current.view.row.id, { force: true });
    }
    const o = replicaCreateOptions(spec, svc, {
      number: n,
      hash,
      projectDir: opts.projectDir,
      configFiles: opts.configFiles,
      networked: run.networked,
      stacksDir: this.deps.stacksDir,
    });
    emit({ kind: 'Container', name: o.name!, status: 'Creating', service: svc.name });
    const created = await containers.create(o);
    const id = created.row.id;
    this.deps.store.claim(id, spec.name);
    if (run.networked) await this.deps.provisioner.connectOtherNetworks(id, svc);
    emit({ kind: 'Container', name: created.row.name, status: current ? 'Recreated' : 'Created', service: svc.name });
    return { id, name: created.row.name };
  }
}
