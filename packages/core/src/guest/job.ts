/**
 * The job Kestrel runs, as the host writes it into the initramfs at /hypr/job: a sequence of
 * NUL-terminated "K=value" records (see guest/PROTOCOL.md). argv and env entries cannot contain
 * NUL, so no escaping is needed.
 */
import { HyprError } from '../errors.js';

export interface GuestJob {
  argv: string[];
  env: string[];
  workdir?: string;
  /** "user", "uid", "user:group" or "uid:gid", resolved in the guest as docker does. */
  user?: string;
  /** "/dev/vda" for a disk, "9p:TAG" for a shared directory. */
  root: string;
  rootfsType?: 'ext4' | 'erofs';
  hostname?: string;
  stopGraceMs?: number;
  /** Device of the persistent writable layer (ext4), e.g. "/dev/vdb"; absent = tmpfs. */
  upperDevice?: string;
  /**
   * Nobody reads the writable layer's disk after the VM ends (`--rm`): Kestrel never flushes it,
   * only the volumes (guest/PROTOCOL.md, key `e`). Meaningless without upperDevice.
   */
  ephemeralUpper?: boolean;
  /** "source\ttarget\ttype\toptions" records, mounted inside the root before the program starts. */
  mounts?: string[];
  /** "build": run command files (see guest/PROTOCOL.md) instead of argv. */
  mode?: 'run' | 'build';
  /** Build mode: 9p tags of the command files and of the results directory. */
  commandsTag?: string;
  sharedTag?: string;
  /** The guest clock at boot, ms since the epoch (microvm has no RTC); default: now. */
  clockMs?: number;
  /** NICs to configure, matched by MAC: address with prefix ("10.88.0.5/16"), optional gateway. */
  nics?: { mac: string; address: string; gateway?: string }[];
  dns?: string[];
  dnsSearch?: string[];
  /** Extra /etc/hosts entries. */
  hosts?: { name: string; address: string }[];
  /** The hypr.exec channel is attached (exec sessions). */
  exec?: boolean;
  /** The program reads the hypr.stdin channel (run -i). */
  stdin?: boolean;
  /** The program gets a terminal of this size (run -t). */
  tty?: { rows: number; cols: number };
  /** Size of the container's /dev/shm (`--shm-size`); absent = docker's 64 MiB. */
  shmSizeBytes?: number;
  /** The container sees the VM's whole /dev (`--privileged`). */
  privileged?: boolean;
  /** VM device nodes (/dev/…) passed through to the container's /dev (`--device`). */
  devices?: string[];
}

export const JOB_PATH = 'hypr/job';

export function encodeJob(job: GuestJob): Buffer {
  const records: string[] = [];
  const add = (key: string, value: string) => {
    if (value.includes('\0')) throw new HyprError('GUEST_JOB_INVALID', `job ${key} value contains a NUL byte`);
    records.push(`${key}=${value}`);
  };
  for (const a of job.argv) add('A', a);
  for (const e of job.env) {
    if (!e.includes('=')) throw new HyprError('GUEST_JOB_INVALID', `environment entry "${e}" has no "="`);
    add('E', e);
  }
  if (job.workdir) add('W', job.workdir);
  if (job.user) add('U', job.user);
  add('R', job.root);
  if (job.rootfsType) add('T', job.rootfsType);
  if (job.hostname) add('H', job.hostname);
  if (job.stopGraceMs !== undefined) add('G', String(Math.max(0, Math.round(job.stopGraceMs))));
  if (job.upperDevice) add('P', job.upperDevice);
  if (job.upperDevice && job.ephemeralUpper) add('e', '1');
  for (const m of job.mounts ?? []) add('m', m);
  if (job.mode) add('M', job.mode);
  add('t', String(job.clockMs ?? Date.now()));
  for (const n of job.nics ?? []) {
    if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(n.mac))
      throw new HyprError('GUEST_JOB_INVALID', `"${n.mac}" is not a MAC address`);
    if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(n.address))
      throw new HyprError('GUEST_JOB_INVALID', `"${n.address}" is not an IPv4 address with a prefix length`);
    add('n', `${n.mac}\t${n.address}\t${n.gateway ?? ''}`);
  }
  for (const d of job.dns ?? []) add('D', d);
  for (const d of job.dnsSearch ?? []) add('d', d);
  for (const h of job.hosts ?? []) add('h', `${h.address}\t${h.name}`);
  if (job.exec) add('X', '1');
  if (job.stdin) add('I', '1');
  if (job.tty) add('Y', `${Math.max(1, job.tty.rows | 0)}x${Math.max(1, job.tty.cols | 0)}`);
  if (job.commandsTag) add('C', job.commandsTag);
  if (job.sharedTag) add('S', job.sharedTag);
  if (job.shmSizeBytes !== undefined) {
    if (!Number.isSafeInteger(job.shmSizeBytes) || job.shmSizeBytes <= 0)
      throw new HyprError('GUEST_JOB_INVALID', `shm size ${job.shmSizeBytes} is not a positive number of bytes`);
    add('s', String(job.shmSizeBytes));
  }
  if (job.privileged) add('V', '1');
  for (const d of job.devices ?? []) {
    if (!/^\/dev\/[^\0]+$/.test(d) || d.split('/').includes('..'))
      throw new HyprError('GUEST_JOB_INVALID', `device ${d} is not a path under /dev`);
    add('v', d);
  }
  return Buffer.from(records.map((r) => `${r}\0`).join(''), 'utf8');
}

/** One build-mode command file (NNN.cmd): the same record format as the job. */
export interface BuildCommandFile {
  kind: 'RUN' | 'FINALIZE';
  argv?: string[];
  env?: string[];
  workdir?: string;
  user?: string;
}

export function encodeBuildCommand(c: BuildCommandFile): Buffer {
  const records = [`K=${c.kind}`];
  for (const a of c.argv ?? []) records.push(`A=${a}`);
  for (const e of c.env ?? []) records.push(`E=${e}`);
  if (c.workdir) records.push(`W=${c.workdir}`);
  if (c.user) records.push(`U=${c.user}`);
  for (const r of records)
    if (r.includes('\0')) throw new HyprError('GUEST_JOB_INVALID', 'build command contains a NUL byte');
  return Buffer.from(records.map((r) => `${r}\0`).join(''), 'utf8');
}

/** The records of an exec session's open frame: the same keys as the job (A, E, W, U) plus Y for a terminal. */
export function encodeExecOpen(o: {
  argv: string[];
  env: string[];
  workdir?: string;
  user?: string;
  tty?: { rows: number; cols: number };
}): Buffer {
  const records: string[] = [];
  for (const a of o.argv) records.push(`A=${a}`);
  for (const e of o.env) records.push(`E=${e}`);
  if (o.workdir) records.push(`W=${o.workdir}`);
  if (o.user) records.push(`U=${o.user}`);
  if (o.tty) records.push(`Y=${Math.max(1, o.tty.rows | 0)}x${Math.max(1, o.tty.cols | 0)}`);
  for (const r of records)
    if (r.includes('\0')) throw new HyprError('GUEST_JOB_INVALID', 'exec argument contains a NUL byte');
  const buf = Buffer.from(records.map((r) => `${r}\0`).join(''), 'utf8');
  if (buf.length > 65535) throw new HyprError('EXEC_TOO_LARGE', 'exec command and environment exceed 64 KiB');
  return buf;
}
