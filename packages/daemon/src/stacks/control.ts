// start, stop, restart, kill and rm of some or all of a project's services (`compose stop web` …).
import { HyprError } from '@hypr/core';
import type { StackContainerOps } from './deps.js';
import type { StackTeardown } from './down.js';
import { forwardGroups, isRunning, projectContainers, replicas } from './members.js';
import type { StackStore } from './store.js';
import type { ControlAction, ControlOptions, Emit, StackContainerView } from './types.js';

export class StackControl {
  constructor(
    private readonly containers: StackContainerOps,
    private readonly store: StackStore,
    private readonly teardown: StackTeardown,
    private readonly boot: <T>(fn: () => Promise<T>) => Promise<T>,
  ) {}

  async run(name: string, action: ControlAction, opts: ControlOptions, emit: Emit): Promise<void> {
    const rec = this.store.get(name);
    const order = rec?.spec.startOrder;
    const all = replicas(projectContainers(this.containers, name));
    if (!all.length && !rec) throw new HyprError('COMPOSE_NO_SUCH_PROJECT', `no such project: ${name}`);
    for (const s of opts.services)
      if (rec && !rec.spec.services[s]) throw new HyprError('COMPOSE_NO_SUCH_SERVICE', `no such service: ${s}`);
    const list = opts.services.length ? all.filter((c) => opts.services.includes(c.service)) : all;
    switch (action) {
      case 'stop':
        return this.teardown.stop(list, opts.timeoutSeconds, emit, order);
      case 'kill':
        return this.kill(list, opts.signal || 'SIGKILL', emit);
      case 'rm': {
        if (opts.stopFirst) await this.teardown.stop(list, opts.timeoutSeconds, emit, order);
        const stopped = list.filter((c) => !isRunning(this.containers.inspect(c.view.row.id)));
        return this.teardown.remove(stopped, 0, emit);
      }
      case 'start':
        return this.start(list, order, 'Starting', emit);
      case 'restart':
        await this.teardown.stop(list, opts.timeoutSeconds, emit, order);
        return this.start(list, order, 'Restarting', emit);
    }
  }

  private async kill(list: StackContainerView[], signal: string, emit: Emit): Promise<void> {
    const running = list.filter((c) => isRunning(this.containers.inspect(c.view.row.id)));
    await Promise.all(
      running.map(async (c) => {
        emit({ kind: 'Container', name: c.view.row.name, status: 'Killing', service: c.service });
        await this.containers.kill(c.view.row.id, signal);
        emit({ kind: 'Container', name: c.view.row.name, status: 'Killed', service: c.service });
      }),
    );
  }

  /** Starts the stopped ones in start order, each group in parallel. */
  private async start(list: StackContainerView[], order: string[][] | undefined, status: string, emit: Emit) {
    for (const group of forwardGroups(list, order))
      await Promise.all(
        group.map(async (c) => {
          if (isRunning(this.containers.inspect(c.view.row.id))) return;
          emit({ kind: 'Container', name: c.view.row.name, status, service: c.service });
          await this.boot(() => this.containers.start(c.view.row.id));
          emit({ kind: 'Container', name: c.view.row.name, status: 'Started', service: c.service });
        }),
      );
  }
}
