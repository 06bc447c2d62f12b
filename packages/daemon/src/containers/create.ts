/**
 * `create`: the image found, the options checked and resolved against it, the mounts resolved
 * (volumes made), and the row inserted under a free name, all or nothing.
 */
import { HyprError, type ImageRecord, type ImageStore, type Logger } from '@hypr/core';
import type { VolumeManager } from '../volumes/index.js';
import type { ResolvedMount } from '../volumes/index.js';
import { type ContainerDefaults, resolveContainerConfig } from './config-resolution.js';
import { resolveMounts } from './container-mounts.js';
import type { ContainerEvents } from './events.js';
import { NAME_PATTERN } from './ids.js';
import { normalizeSignal } from './signals.js';
import { type ContainerStore, storedConfig } from './store.js';
import type { ContainerView, CreateContainerOptions } from './types.js';

export interface CreateDeps {
  store: ContainerStore;
  images: ImageStore;
  events: ContainerEvents;
  defaults: ContainerDefaults;
  logger: Logger;
  volumes?: VolumeManager;
}

export function checkContainerName(name: string | undefined): void {
  if (name !== undefined && !NAME_PATTERN.test(name))
    throw new HyprError('INVALID_NAME', `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
}

export function createContainer(d: CreateDeps, opts: CreateContainerOptions): ContainerView {
  const image = d.images.findImage(opts.image);
  if (!image)
    throw new HyprError('IMAGE_NOT_FOUND', `Unable to find image '${opts.image}' locally`, `hypr pull ${opts.image}`);
  checkContainerName(opts.name);
  if (opts.stopSignal) opts.stopSignal = normalizeSignal(opts.stopSignal);
  const config = resolveContainerConfig(image, opts, d.defaults);
  const { id, dir } = d.store.allocate();
  d.store.insertNamed(opts.name, (name) => {
    // Inside the transaction: volume records made here go if the insert fails.
    const mounts = containerMounts(d, image, opts);
    return {
      id,
      name,
      imageDigest: image.digest,
      imageRef: opts.image,
      config: JSON.stringify({ ...config, hostname: config.hostname || id.slice(0, 12), mounts }),
      state: 'created',
      dir,
      labels: JSON.stringify(opts.labels ?? {}),
      createdAt: Date.now(),
    };
  });
  d.logger.info({ id, image: opts.image }, 'container created');
  d.events.publish('create', id);
  return d.store.fresh(id);
}

function containerMounts(d: CreateDeps, image: ImageRecord, opts: CreateContainerOptions): ResolvedMount[] {
  const imageVolumes = Object.keys((image.config.config as { Volumes?: Record<string, object> })?.Volumes ?? {});
  const asked = [opts.volumes, opts.mounts, opts.tmpfs, opts.volumesFrom].some((l) => l?.length);
  if (!d.volumes) {
    if (asked) throw new HyprError('VOLUMES_NOT_SUPPORTED', 'this daemon has no volume manager');
    return [];
  }
  return resolveMounts(opts, {
    volumes: d.volumes,
    imageVolumes,
    mountsOf: (c) => storedConfig(d.store.resolve(c)).mounts ?? [],
  }).mounts;
}
