/**
 * Stopping and removing a project's containers (dependents first, each group in parallel), and
 * `down`: the containers, then the project's networks, with -v its volumes, then its record.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { StackSpec } from '@hypr/core/compose';
import type { StackContainerOps } from './deps.js';
import { isRunning, orphanWarning, projectContainers, reverseGroups } from './members.js';
import type { StackProvisioner } from './provisioner.js';
import type { StackStore } from './store.js';
import type { DownOptions, Emit, StackContainerView } from './types.js';

export class StackTeardown {
  constructor(
    private readonly containers: StackContainerOps,
    private readonly store: StackStore,
    private readonly provisioner: StackProvisioner,
    private readonly stacksDir: string,
  ) {}

  /** Stops the running ones, dependents first (by `order`, the stack's start order). */
  async stop(list: StackContainerView[], timeoutSeconds: number | undefined, emit: Emit, order?: string[][]) {
    for (const group of reverseGroups(list, order))
      await Promise.all(
        group.map(async (c) => {
          const name = c.view.row.name;
          if (!isRunning(this.containers.inspect(c.view.row.id))) return;
          emit({ kind: 'Container', name, status: 'Stopping', service: c.service });
          await this.containers.stop(c.view.row.id, timeoutSeconds === undefined ? {} : { timeoutSeconds });
          emit({ kind: 'Container', name, status: 'Stopped', service: c.service });
        }),
      );
  }

  /** Stops, then removes (with their anonymous volumes when asked). */
  async remove(
    list: StackContainerView[],
    timeoutSeconds: number | undefined,
    emit: Emit,
    order?: string[][],
    anonymousVolumes = false,
  ): Promise<void> {
    await this.stop(list, timeoutSeconds, emit, order);
    await Promise.all(
      list.map(async (c) => {
        const name = c.view.row.name;
        emit({ kind: 'Container', name, status: 'Removing', service: c.service });
        await this.containers.remove(c.view.row.id, { force: true, volumes: anonymousVolumes });
        emit({ kind: 'Container', name, status: 'Removed', service: c.service });
      }),
    );
  }

  /** `compose down`: works from the recorded spec when the CLI has none, or from the labels alone. */
  async down(name: string, opts: DownOptions, emit: Emit): Promise<void> {
    let spec: StackSpec | undefined;
    try {
      spec = this.store.specOf(name, opts.spec);
    } catch (e) {
      if (!projectContainers(this.containers, name).length) throw e;
    }
    const all = projectContainers(this.containers, name);
    const ours = spec ? all.filter((c) => spec.services[c.service]) : all;
    const orphans = spec ? all.filter((c) => !spec.services[c.service]) : [];
    if (orphans.length && !opts.removeOrphans)
      emit({ kind: '', name, status: '', warning: true, message: orphanWarning(orphans) });
    const doomed = opts.removeOrphans ? [...ours, ...orphans] : ours;
    await this.remove(doomed, opts.timeoutSeconds, emit, spec?.startOrder, opts.volumes);
    if (spec) await this.provisioner.removeResources(spec, opts.volumes, emit);
    if (spec && opts.removeImages) this.provisioner.removeImages(spec, opts.removeImages, emit);
    await rm(join(this.stacksDir, name), { recursive: true, force: true });
    if (!projectContainers(this.containers, name).length) this.store.drop(name);
  }
}
