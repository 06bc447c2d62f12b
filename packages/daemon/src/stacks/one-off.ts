/**
 * `compose run SERVICE [CMD…]`: the service's dependencies come up as `up` would bring them (unless
 * --no-deps) and their depends_on conditions are awaited; then a one-off container of the service is
 * created, not started: the client attaches to it and starts it, as `hypr run` does.
 */
import { HyprError } from '@hypr/core';
import type { StackSpec } from '@hypr/core/compose';
import { oneOffCreateOptions, writeInlineFiles } from './container-options.js';
import type { StackConverger } from './converger.js';
import type { StackWaiter } from './depends-on.js';
import type { StackContainerOps } from './deps.js';
import type { StackProvisioner } from './provisioner.js';
import { selectServices } from './services.js';
import type { StackStore } from './store.js';
import type { Emit, RunOptions } from './types.js';

export interface RunnerDeps {
  containers: StackContainerOps;
  store: StackStore;
  provisioner: StackProvisioner;
  converger: StackConverger;
  waiter: StackWaiter;
  stacksDir: string;
}

export class StackRunner {
  constructor(private readonly deps: RunnerDeps) {}

  /** Returns the id of the one-off container, created and not started. */
  async run(spec: StackSpec, opts: RunOptions, emit: Emit): Promise<string> {
    selectServices(spec, [opts.service], true); // an unknown service is an error naming the known ones
    const svc = spec.services[opts.service];
    const { provisioner, store } = this.deps;
    const wanted = opts.noDeps ? [] : svc.dependsOn.map((d) => d.service);
    if (wanted.length) await this.startDependencies(spec, opts, wanted, emit);
    else store.save({ spec, projectDir: opts.projectDir, configFiles: opts.configFiles });
    const only = new Set([opts.service]);
    await provisioner.ensureImages(spec, only, { build: '', pull: '' }, emit);
    const networked = await provisioner.ensureNetworks(spec, only, emit);
    provisioner.ensureVolumes(spec, emit);
    await writeInlineFiles(this.deps.stacksDir, spec.name, svc);
    const o = oneOffCreateOptions(spec, opts, { networked, stacksDir: this.deps.stacksDir });
    const created = await this.deps.containers.create(o);
    const id = created.row.id;
    store.claim(id, spec.name);
    if (networked) await provisioner.connectOtherNetworks(id, svc);
    emit({ kind: 'Container', name: created.row.name, status: 'Created', service: opts.service, id });
    return id;
  }

  /** `up` of the dependencies, then each depends_on condition of the service (optional ones only warn). */
  private async startDependencies(spec: StackSpec, opts: RunOptions, wanted: string[], emit: Emit) {
    await this.deps.converger.up(
      spec,
      {
        projectDir: opts.projectDir,
        configFiles: opts.configFiles,
        services: wanted,
        build: '',
        forceRecreate: false,
        noRecreate: false,
        removeOrphans: false,
        noStart: false,
        noDeps: false,
        wait: false,
        waitTimeoutMs: 0,
        pull: '',
      },
      emit,
    );
    for (const dep of spec.services[opts.service].dependsOn)
      try {
        await this.deps.waiter.condition(spec.name, dep.service, dep.condition, emit);
      } catch (e) {
        if (dep.required)
          throw new HyprError(
            'COMPOSE_DEPENDENCY_FAILED',
            `dependency failed to start: ${(e as Error).message}`,
            undefined,
            {
              cause: e,
            },
          );
        const message = `optional dependency ${dep.service}: ${(e as Error).message}`;
        emit({ kind: 'Service', name: opts.service, status: '', warning: true, message });
      }
  }
}
