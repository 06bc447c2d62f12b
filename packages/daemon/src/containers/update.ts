/**
 * docker rename and docker update: a new name, a new restart policy, a new VM size. The size of a
 * VM is fixed while it runs, so memory and vCPUs change only on a stopped container.
 */
import { HyprError } from '@hypr/core';
import { type ContainerDefaults, resolveCpus, resolveMemoryMiB } from './config-resolution.js';
import { checkContainerName } from './create.js';
import type { ContainerEvents } from './events.js';
import type { ContainerStore } from './store.js';
import type { ContainerView, CreateContainerOptions, StoredContainerConfig } from './types.js';

export interface UpdateOptions {
  restartPolicy?: CreateContainerOptions['restartPolicy'];
  memoryBytes?: number;
  cpus?: number;
}

export interface UpdateDeps {
  store: ContainerStore;
  events: ContainerEvents;
  defaults: ContainerDefaults;
  /** True while the container's VM runs (or is starting or paused). */
  isLive(id: string): boolean;
}

export function renameContainer(d: UpdateDeps, text: string, newName: string): ContainerView {
  const row = d.store.resolve(text);
  const name = newName.replace(/^\//, '');
  if (!name) throw new HyprError('INVALID_NAME', 'Error when allocating new name: the new name is empty');
  checkContainerName(name);
  if (name === row.name)
    throw new HyprError(
      'INVALID_NAME',
      `Renaming a container with the same name as its current name: ${name}`,
      'give a different name',
    );
  d.store.rename(row.id, name);
  d.events.publish('rename', row.id, { oldName: `/${row.name}` });
  return d.store.fresh(row.id);
}

function checkUpdate(d: UpdateDeps, view: ContainerView, o: UpdateOptions): void {
  const { row, config } = view;
  if (o.restartPolicy && o.restartPolicy.name !== 'no' && config.create.autoRemove)
    throw new HyprError(
      'INVALID_ARGUMENT_CONFLICT',
      `Restart policy cannot be updated because AutoRemove is enabled for the container ${row.name}`,
      'a container made with --rm keeps the policy "no"',
    );
  if (o.memoryBytes !== undefined && !(o.memoryBytes > 0))
    throw new HyprError('INVALID_ARGUMENT', `invalid memory size: ${o.memoryBytes}`, 'give a size such as 512m or 2g');
  if (o.cpus !== undefined && !(o.cpus > 0))
    throw new HyprError('INVALID_ARGUMENT', `invalid number of CPUs: ${o.cpus}`, 'give a positive number such as 2');
  const resizing = o.memoryBytes !== undefined || o.cpus !== undefined;
  if (resizing && (d.isLive(row.id) || row.state === 'running' || row.state === 'paused'))
    throw new HyprError(
      'CONTAINER_IS_RUNNING',
      `cannot update the memory or CPUs of container ${row.name} while it runs: its VM's size is fixed at start`,
      `stop it first (hypr stop ${row.name}), update it, then start it again`,
    );
}

/** The stored config with the update applied. */
function updatedConfig(c: StoredContainerConfig, o: UpdateOptions, defaults: ContainerDefaults): StoredContainerConfig {
  const create: CreateContainerOptions = {
    ...c.create,
    ...(o.restartPolicy ? { restartPolicy: o.restartPolicy } : {}),
    ...(o.memoryBytes !== undefined ? { memoryBytes: o.memoryBytes } : {}),
    ...(o.cpus !== undefined ? { cpus: o.cpus } : {}),
  };
  return {
    ...c,
    create,
    ...(o.memoryBytes !== undefined ? { memoryMiB: resolveMemoryMiB(o.memoryBytes, defaults) } : {}),
    ...(o.cpus !== undefined ? { cpus: resolveCpus(o.cpus, defaults) } : {}),
  };
}

export function updateContainer(d: UpdateDeps, text: string, o: UpdateOptions): ContainerView {
  const view = d.store.view(d.store.resolve(text));
  checkUpdate(d, view, o);
  const config = updatedConfig(view.config, o, d.defaults);
  d.store.update(view.row.id, { config: JSON.stringify(config) });
  d.events.publish('update', view.row.id);
  return d.store.fresh(view.row.id);
}
