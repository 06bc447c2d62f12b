/**
 * Compose stacks in hyprd. The CLI loads and converts the compose files (@hypr/core/compose) and
 * sends the StackSpec; this orchestrates it on top of the container Orchestrator: images are built
 * or pulled, then each service's containers (`<project>-<service>-<n>`, with compose's labels) are
 * created and started as soon as their `depends_on` conditions hold, at most `bootConcurrency` VMs
 * booting at once. A container whose config hash is unchanged is kept, so a second `up` recreates
 * nothing. The stack (spec, files, project directory) is recorded in the `stacks` table, so it
 * outlives the CLI and a daemon restart; its containers are found again by their project label.
 *
 * This class wires the parts and runs each operation under the project's lock; the work is in
 * store.ts, provisioner.ts, converger.ts, depends-on.ts, down.ts and control.ts.
 */
import { availableParallelism } from 'node:os';
import type { HyprState, Logger } from '@hypr/core';
import type { StackSpec } from '@hypr/core/compose';
import { KeyedLock, Semaphore } from './concurrency.js';
import { StackControl } from './control.js';
import { StackConverger } from './converger.js';
import { StackWaiter } from './depends-on.js';
import type { StackContainerOps, StackImageOps, StackNetworkOps, StackVolumeOps } from './deps.js';
import { StackTeardown } from './down.js';
import { isRunning, projectContainers } from './members.js';
import { StackRunner } from './one-off.js';
import { StackProvisioner } from './provisioner.js';
import { selectServices } from './services.js';
import { StackStore } from './store.js';
import type {
  BuildOptions,
  ControlAction,
  ControlOptions,
  DownOptions,
  Emit,
  RunOptions,
  StackContainerView,
  StackPsEntry,
  StackSummary,
  StoredStack,
  UpOptions,
} from './types.js';

export interface StackOrchestratorDeps {
  state: HyprState;
  containers: StackContainerOps;
  images: StackImageOps;
  /** Absent: hyprd has no networking; services get no network. */
  networks?: StackNetworkOps;
  /** Absent: named volumes are not created. */
  volumes?: StackVolumeOps;
  /** Where inline secrets and configs are written, one folder per project. */
  stacksDir: string;
  logger: Logger;
  /** VMs booting at once (default: the host's CPUs, at least 2; a boot under TCG keeps one busy). */
  bootConcurrency?: number;
}

export class StackOrchestrator {
  private readonly locks = new KeyedLock();
  private readonly containerOps: StackContainerOps;
  private readonly networks?: StackNetworkOps;
  private readonly store: StackStore;
  private readonly provisioner: StackProvisioner;
  private readonly converger: StackConverger;
  private readonly teardown: StackTeardown;
  private readonly controller: StackControl;
  private readonly runner: StackRunner;

  constructor(deps: StackOrchestratorDeps) {
    const { containers, stacksDir } = deps;
    const boots = new Semaphore(deps.bootConcurrency ?? Math.max(2, availableParallelism()));
    const boot = <T>(fn: () => Promise<T>) => boots.run(fn);
    this.containerOps = containers;
    this.networks = deps.networks;
    this.store = new StackStore(deps.state);
    this.provisioner = new StackProvisioner(deps);
    this.teardown = new StackTeardown(containers, this.store, this.provisioner, stacksDir);
    this.controller = new StackControl(containers, this.store, this.teardown, boot);
    const waiter = new StackWaiter(containers);
    const { store, provisioner, teardown } = this;
    this.converger = new StackConverger({ containers, store, provisioner, waiter, teardown, boot, stacksDir });
    const { converger } = this;
    this.runner = new StackRunner({ containers, store, provisioner, converger, waiter, stacksDir });
  }

  record(name: string): StoredStack | undefined {
    return this.store.get(name);
  }

  /** Every container of the project, by its labels. */
  containersOf(project: string): StackContainerView[] {
    return projectContainers(this.containerOps, project);
  }

  /** `compose ps`: the project's containers (of some services; running ones unless `all`), and its services. */
  ps(project: string, opts: { services: string[]; all: boolean }): { services: string[]; containers: StackPsEntry[] } {
    const rec = this.record(project);
    const list = this.containersOf(project)
      .filter((c) => !opts.services.length || opts.services.includes(c.service))
      .filter((c) => opts.all || (isRunning(c.view) && !c.oneOff));
    const services = rec ? Object.keys(rec.spec.services) : [...new Set(list.map((c) => c.service))];
    const published = (id: string) => this.networks?.portsOf(id) ?? [];
    return { services: services.sort(), containers: list.map((c) => ({ ...c, published: published(c.view.row.id) })) };
  }

  /** `compose ls`: projects with a running container (all with `all`), and their states. */
  list(all: boolean): StackSummary[] {
    const out: StackSummary[] = [];
    for (const rec of this.store.all()) {
      const counts = new Map<string, number>();
      for (const c of this.containersOf(rec.name))
        counts.set(c.view.row.state, (counts.get(c.view.row.state) ?? 0) + 1);
      if (!all && !counts.get('running')) continue;
      const status = [...counts.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([s, n]) => `${s}(${n})`)
        .join(', ');
      out.push({ name: rec.name, status, configFiles: rec.configFiles, projectDir: rec.projectDir });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  up(spec: StackSpec, opts: UpOptions, emit: Emit): Promise<void> {
    return this.locks.run(spec.name, () => this.converger.up(spec, opts, emit));
  }

  /** `compose run`: the id of the one-off container, created (with its dependencies up) and not started. */
  run(spec: StackSpec, opts: RunOptions, emit: Emit): Promise<string> {
    return this.locks.run(spec.name, () => this.runner.run(spec, opts, emit));
  }

  down(name: string, opts: DownOptions, emit: Emit): Promise<void> {
    return this.locks.run(name, () => this.teardown.down(name, opts, emit));
  }

  control(name: string, action: ControlAction, opts: ControlOptions, emit: Emit): Promise<void> {
    return this.locks.run(name, () => this.controller.run(name, action, opts, emit));
  }

  /** `compose build`: each selected service with a build section, each image once. */
  build(spec: StackSpec, services: string[], opts: BuildOptions, emit: Emit): Promise<void> {
    return this.locks.run(spec.name, async () => {
      const done = new Set<string>();
      for (const name of selectServices(spec, services, true)) {
        const b = spec.services[name].build;
        if (!b || done.has(b.tag)) continue;
        await this.provisioner.build(spec, name, opts, emit);
        done.add(b.tag);
      }
    });
  }

  /** `compose pull`: each selected service's image, except images a build makes. */
  pull(spec: StackSpec, services: string[], ignoreFailures: boolean, emit: Emit): Promise<void> {
    return this.locks.run(spec.name, async () => {
      for (const name of selectServices(spec, services, true)) {
        const svc = spec.services[name];
        if (svc.build && !this.provisioner.hasImage(svc.image)) {
          emit({ kind: 'Service', name, status: 'Skipped', service: name, message: 'image is built' });
          continue;
        }
        try {
          await this.provisioner.pull(name, svc, emit);
        } catch (e) {
          if (!ignoreFailures) throw e;
          const message = (e as Error).message;
          emit({ kind: 'Image', name: svc.image, status: 'Error', service: name, message, warning: true });
        }
      }
    });
  }
}
