/**
 * The VM a container runs in: its rootfs disk (one per image, cached), its writable layer, and the
 * stored config turned into the runtime's VmConfig.
 */
import { join } from 'node:path';
import { type GuestMount, HyprError, type ImageStore, type Logger, type UnpackLimits, getRootfsDisk } from '@hypr/core';
import type { VmConfig } from './runtime/runtime.js';
import type { StoredContainerConfig } from './types.js';

const WRITABLE_DISK_MIB = 1024;

/**
 * The read-only rootfs disk of each image, made once per image even when containers start together.
 * Usually made already when the image was stored (ImageManager.prepareDisk); else made here, off the
 * event loop.
 */
export class RootfsDisks {
  private readonly disks = new Map<string, Promise<string>>();

  constructor(
    private readonly images: ImageStore,
    private readonly logger: Logger,
    /** daemon.json's unpack limits (unpackLimitsOf), the same the disk made at pull time obeys. */
    private readonly limits?: Partial<UnpackLimits>,
  ) {}

  get(digest: string): Promise<string> {
    let p = this.disks.get(digest);
    if (!p) {
      const image = this.images.getImage(digest);
      if (!image)
        return Promise.reject(new HyprError('IMAGE_NOT_FOUND', `the image ${digest} of this container is gone`));
      p = getRootfsDisk(this.images, image, { worker: true, limits: this.limits, logger: this.logger }).then(
        (d) => d.path,
      );
      this.disks.set(digest, p);
      p.catch(() => this.disks.delete(digest));
    }
    return p;
  }
}

/** The VmConfig of one start of a container whose directory is `dir`. */
export function vmConfigOf(
  config: StoredContainerConfig,
  dir: string,
  rootfsDisk: string,
  mounts: GuestMount[],
): VmConfig {
  return {
    rootfs: { disk: rootfsDisk, type: 'ext4' },
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
}
