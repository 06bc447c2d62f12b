/**
 * The VM a container runs in: its image's read-only disks (one disk per layer, shared between
 * images; one flattened disk per image with HYPR_LAYER_DISKS=0 or where layers do not fit; cached),
 * its writable layer, and the stored config turned into the runtime's VmConfig.
 */
import { join } from 'node:path';
import {
  type GuestMount,
  HyprError,
  type ImageRootfs,
  type ImageStore,
  type Logger,
  MICROVM_VIRTIO_TRANSPORTS,
  type RootfsSource,
  type UnpackLimits,
  getImageRootfs,
  getRootfsDisk,
  unpackImage,
} from '@hypr/core';
import type { ImageFiles } from '../volumes/index.js';
import type { VmConfig } from './runtime/runtime.js';
import type { StoredContainerConfig } from './types.js';

const WRITABLE_DISK_MIB = 1024;

/**
 * The read-only disks of each image, made once per image even when containers start together.
 * Usually made already when the image was stored (ImageManager.prepareDisk); else made here, off the
 * event loop.
 */
export class RootfsDisks {
  private readonly disks = new Map<string, Promise<ImageRootfs>>();

  constructor(
    private readonly images: ImageStore,
    private readonly logger: Logger,
    /** daemon.json's unpack limits (unpackLimitsOf), the same the disk made at pull time obeys. */
    private readonly limits?: Partial<UnpackLimits>,
  ) {}

  get(digest: string): Promise<ImageRootfs> {
    let p = this.disks.get(digest);
    if (!p) {
      const image = this.images.getImage(digest);
      if (!image)
        return Promise.reject(new HyprError('IMAGE_NOT_FOUND', `the image ${digest} of this container is gone`));
      p = getImageRootfs(this.images, image, { worker: true, limits: this.limits, logger: this.logger });
      this.disks.set(digest, p);
      p.catch(() => this.disks.delete(digest));
    }
    return p;
  }

  /**
   * What the guest boots from: the image's disk, or its layer disks bottom first. `mounts` are the
   * VM's other mounts: when its shares leave too few virtio transports for the layers, the VM gets
   * the flattened disk (made now if it is not there).
   */
  async rootfsOf(digest: string, mounts: readonly GuestMount[] = []): Promise<RootfsSource> {
    const { disks, layered } = await this.get(digest);
    // Besides disks and shares: the channels, the balloon, the writable layer and a NIC.
    const others = mounts.filter((m) => m.type === 'share').length + 4;
    if (layered && disks.length + others <= MICROVM_VIRTIO_TRANSPORTS)
      return { disks: disks.map((d) => d.path), type: 'ext4' };
    const image = this.images.getImage(digest);
    if (layered && image) {
      const flat = await getRootfsDisk(this.images, image, { worker: true, limits: this.limits, logger: this.logger });
      return { disk: flat.path, type: 'ext4' };
    }
    return { disk: disks[0].path, type: 'ext4' };
  }

  /**
   * Where a volume's copy-up reads the image's files: the flattened disk (debugfs), or, with layer
   * disks, the layers themselves, unpacked for that one path with every whiteout honoured.
   */
  async filesOf(digest: string): Promise<ImageFiles> {
    const { disks, layered } = await this.get(digest);
    if (!layered) return { disk: disks[0].path };
    return {
      unpack: async (imagePath, into) => {
        const image = this.images.getImage(digest);
        if (!image) throw new HyprError('IMAGE_NOT_FOUND', `the image ${digest} of this container is gone`);
        await unpackImage(this.images, image, into, { only: imagePath, limits: this.limits, logger: this.logger });
      },
    };
  }
}

/** The VmConfig of one start of a container whose directory is `dir`. */
export function vmConfigOf(
  config: StoredContainerConfig,
  dir: string,
  rootfs: RootfsSource,
  mounts: GuestMount[],
): VmConfig {
  return {
    rootfs,
    argv: config.argv,
    env: config.env,
    workdir: config.workdir,
    user: config.user,
    hostname: config.hostname,
    cpus: config.cpus,
    memoryMiB: config.memoryMiB,
    stopGraceMs: config.stopTimeoutSeconds * 1000,
    // --rm: no disk. The layer is deleted unread when the VM ends, so Kestrel keeps it on a tmpfs
    // (no ext4 mount, ~55 ms less per run under TCG); commit/diff/export of the running container
    // read it through the guest (writable-layer.ts, docs/vm.md).
    ...(config.create.autoRemove ? {} : { writableDisk: { path: join(dir, 'rw.ext4'), sizeMiB: WRITABLE_DISK_MIB } }),
    ...(mounts.length ? { mounts } : {}),
    ...(config.create.openStdin ? { stdin: true } : {}),
    ...(config.create.tty ? { tty: { rows: 24, cols: 80 } } : {}),
  };
}
