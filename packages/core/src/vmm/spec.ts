import { availableParallelism } from 'node:os';

/** What every hypervisor adapter boots: one description, whatever the backend. */
export interface VmSpec {
  /** Short name for logs and the hypervisor's process title. */
  name: string;
  /** Uncompressed vmlinux (PVH entry) or a bzImage, as the adapter supports. */
  kernelPath: string;
  initrdPath?: string;
  cmdline: string;
  cpus: number;
  memoryMiB: number;
  disks: VmDisk[];
  /** Host directories shared with the guest (9p on QEMU, virtio-fs where a virtiofsd socket is given). */
  shares: VmShare[];
  nics: VmNic[];
  /** Byte channels to the guest (virtio-serial ports on QEMU, vsock ports elsewhere), each backed by a Unix socket. */
  channels: VmChannel[];
  /** Network namespace the hypervisor runs in (where its TAP devices are); absent = the host's. */
  netns?: string;
  /** File receiving the guest's serial console (kernel messages). */
  consoleLogPath: string;
  /** Unix socket for live control (QEMU: QMP), made by the hypervisor; absent = no live control. */
  controlSocketPath?: string;
}

export interface VmDisk {
  path: string;
  readOnly: boolean;
  /**
   * Nothing reads the disk after the VM ends (the host deletes it): the hypervisor never needs to
   * make the guest's writes durable (QEMU: cache=unsafe, no host fsync).
   */
  ephemeral?: boolean;
  format?: 'raw' | 'qcow2';
}

export interface VmShare {
  tag: string;
  hostPath: string;
  readOnly: boolean;
  /** virtio-fs: the vhost-user socket of a running virtiofsd. Absent: 9p served by the hypervisor. */
  virtiofsSocket?: string;
}

export interface VmNic {
  /** Host TAP device the NIC is attached to. */
  tap: string;
  mac: string;
}

export interface VmChannel {
  /** Name the guest sees (virtio-serial port name), e.g. "hypr.control". */
  name: string;
  /** Unix socket on the host. */
  socketPath: string;
  /** true: the hypervisor listens and the host connects; false: the host listens and the hypervisor connects. */
  hypervisorListens?: boolean;
  /** vsock port for backends without virtio-serial (cloud-hypervisor, vfkit). */
  vsockPort?: number;
}

export type Accelerator = 'kvm' | 'tcg' | 'hvf';

/**
 * A VM's size when the caller gives none, as a Docker user expects (no wall): 2 GiB, of which the
 * guest returns what it does not use to the host (virtio-balloon free page reporting, so an idle
 * container costs what it touches, not its size), and as many vCPUs as the host has (the guest
 * kernel's limit is 64). The daemon passes its own when its config sets them.
 */
export const DEFAULT_MEMORY_MIB = 2048;
export const MAX_CPUS = 64;

export function defaultCpus(): number {
  return Math.min(MAX_CPUS, Math.max(1, availableParallelism()));
}

/** The host's cores at start-up; defaultCpus() reads them again. */
export const DEFAULT_CPUS = defaultCpus();
