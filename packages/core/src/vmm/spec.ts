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
}

export interface VmDisk {
  path: string;
  readOnly: boolean;
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

export const DEFAULT_CPUS = 1;
export const DEFAULT_MEMORY_MIB = 256;
