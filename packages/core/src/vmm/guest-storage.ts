/**
 * What a guest's filesystems become on the hypervisor's side: the root (a read-only disk or a 9p
 * share), the writable layer's disk, shared directories (virtio-fs when a virtiofsd is there, else
 * 9p), and the mount records Kestrel reads from the job (guest/PROTOCOL.md, key `m`).
 */
import { existsSync, statSync } from 'node:fs';
import { HyprError } from '../errors.js';
import type { VmSpec } from './spec.js';
import { findVirtiofsd } from './virtiofsd.js';

/**
 * The image's root: a host directory (9p), one read-only disk, or one read-only disk per layer,
 * bottom first, that Kestrel stacks with overlayfs.
 */
export type RootfsSource =
  | { dir: string }
  | { disk: string; type?: 'ext4' | 'erofs' }
  | { disks: string[]; type?: 'ext4' };

/** A filesystem mounted in the guest before the program starts. */
export type GuestMount =
  /** A host directory shared with the guest (9p), e.g. a bind mount or a named volume's _data. */
  | { type: 'share'; hostPath: string; target: string; readOnly?: boolean }
  | { type: 'tmpfs'; target: string; options?: string };

export interface GuestStorage {
  /** The job's root: "/dev/vda", the layer disks "/dev/vda,/dev/vdb,…" (bottom first), or "9p:rootfs". */
  root: string;
  rootfsType?: 'ext4' | 'erofs';
  /** The writable layer's device in the guest, when there is a disk for it. */
  upperDevice?: string;
  /** The writable layer's disk is thrown away unread when the VM ends (ephemeralLayer). */
  ephemeralUpper?: boolean;
  disks: VmSpec['disks'];
  shares: VmSpec['shares'];
  mountRecords: string[];
  /** The virtiofsd binary, when some share goes over virtio-fs. */
  virtiofsd?: string;
}

export interface GuestStorageOptions {
  rootfs: RootfsSource;
  writableDisk?: string;
  /** The host deletes writableDisk unread once the VM ends (`--rm`): neither side flushes it. */
  ephemeralLayer?: boolean;
  mounts?: GuestMount[];
  build?: { commandsDir: string; sharedDir: string };
}

/** The guest's name of the i-th virtio disk: vda … vdz, then vdaa … (as Linux names them). */
function guestDisk(i: number): string {
  const letter = (n: number) => String.fromCharCode(97 + n);
  return `/dev/vd${i < 26 ? letter(i) : letter(Math.floor(i / 26) - 1) + letter(i % 26)}`;
}

/** Checks every source and lays the storage out; nothing starts here. */
export function planGuestStorage(opts: GuestStorageOptions): GuestStorage {
  const { rootfs } = opts;
  if ('dir' in rootfs) {
    if (!existsSync(rootfs.dir) || !statSync(rootfs.dir).isDirectory())
      throw new HyprError('ROOTFS_NOT_FOUND', `root filesystem directory ${rootfs.dir} does not exist`);
  }
  const rootDisks = 'disk' in rootfs ? [rootfs.disk] : 'disks' in rootfs ? rootfs.disks : [];
  if ('disks' in rootfs && rootDisks.length === 0)
    throw new HyprError('ROOTFS_NOT_FOUND', 'the root filesystem is a list of layer disks, but the list is empty');
  for (const d of rootDisks)
    if (!existsSync(d)) throw new HyprError('ROOTFS_NOT_FOUND', `root filesystem disk ${d} does not exist`);
  // Disks appear in the guest in the order they are given: the rootfs disks (if any) first.
  const disks: VmSpec['disks'] = rootDisks.map((path) => ({ path, readOnly: true }));
  let upperDevice: string | undefined;
  if (opts.writableDisk) {
    if (!existsSync(opts.writableDisk))
      throw new HyprError('WRITABLE_DISK_NOT_FOUND', `writable layer disk ${opts.writableDisk} does not exist`);
    upperDevice = guestDisk(disks.length);
    disks.push({ path: opts.writableDisk, readOnly: false, ...(opts.ephemeralLayer ? { ephemeral: true } : {}) });
  }
  const shares: VmSpec['shares'] = 'dir' in rootfs ? [{ tag: 'rootfs', hostPath: rootfs.dir, readOnly: true }] : [];
  const virtiofsd = opts.mounts?.some((m) => m.type === 'share') ? findVirtiofsd() : undefined;
  const mountRecords = (opts.mounts ?? []).map((m, i) => {
    if (!m.target.startsWith('/'))
      throw new HyprError('MOUNT_INVALID', `mount target ${m.target} is not an absolute path`);
    if (m.type === 'tmpfs') return `tmpfs\t${m.target}\ttmpfs\t${m.options ?? 'mode=1777'}`;
    if (!existsSync(m.hostPath))
      throw new HyprError('MOUNT_SOURCE_NOT_FOUND', `mount source ${m.hostPath} does not exist`);
    // virtio-fs when a virtiofsd is there (its socket is set once the VM's work dir exists), else 9p.
    const fs = virtiofsd ? 'virtiofs' : '9p';
    shares.push({
      tag: `m${i}`,
      hostPath: m.hostPath,
      readOnly: !!m.readOnly,
      ...(virtiofsd ? { virtiofsSocket: '' } : {}),
    });
    return `${fs}:m${i}\t${m.target}\t${fs}\t${m.readOnly ? 'ro' : 'rw'}`;
  });
  if (opts.build) {
    shares.push({ tag: 'hyprcmd', hostPath: opts.build.commandsDir, readOnly: true });
    shares.push({ tag: 'hyprshared', hostPath: opts.build.sharedDir, readOnly: false });
  }
  return {
    // Layer disks: "/dev/vda,/dev/vdb,…", bottom first (guest/PROTOCOL.md, key R).
    root: 'dir' in rootfs ? '9p:rootfs' : rootDisks.map((_, i) => guestDisk(i)).join(','),
    rootfsType: 'dir' in rootfs ? undefined : rootfs.type,
    upperDevice,
    ...(upperDevice && opts.ephemeralLayer ? { ephemeralUpper: true } : {}),
    disks,
    shares,
    mountRecords,
    virtiofsd,
  };
}
