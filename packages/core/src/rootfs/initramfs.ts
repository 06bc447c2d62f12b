/**
 * newc cpio writer for the guest initramfs (the format the kernel unpacks, see the kernel's
 * Documentation/driver-api/early-userspace/buffer-format.rst). No external cpio binary.
 */
import { gzipSync } from 'node:zlib';

export interface CpioEntry {
  /** Path inside the archive, without a leading slash (e.g. "init", "hypr/job"). */
  path: string;
  /** 'file' (default), 'dir', or 'symlink'. */
  type?: 'file' | 'dir' | 'symlink';
  /** Permission bits, e.g. 0o755. */
  mode?: number;
  data?: Buffer | string;
  /** Symlink target. */
  target?: string;
  uid?: number;
  gid?: number;
  mtimeSec?: number;
}

const TYPE_BITS = { file: 0o100000, dir: 0o040000, symlink: 0o120000 } as const;

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

function pad4(len: number): Buffer {
  return Buffer.alloc((4 - (len % 4)) % 4);
}

function header(
  name: string,
  ino: number,
  mode: number,
  uid: number,
  gid: number,
  nlink: number,
  mtime: number,
  size: number,
): Buffer {
  const nameBytes = Buffer.byteLength(name) + 1;
  const fields = [ino, mode, uid, gid, nlink, mtime, size, 0, 0, 0, 0, nameBytes, 0];
  const head = Buffer.from(`070701${fields.map(hex8).join('')}`, 'ascii');
  const nameBuf = Buffer.concat([Buffer.from(name, 'utf8'), Buffer.alloc(1)]);
  return Buffer.concat([head, nameBuf, pad4(head.length + nameBuf.length)]);
}

/** Writes a newc archive. Parent directories are not implied: list them before their children. */
export function writeCpio(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const e of entries) {
    const type = e.type ?? 'file';
    const name = e.path.replace(/^\/+/, '');
    if (!name || name.split('/').includes('..')) throw new Error(`cpio: invalid path "${e.path}"`);
    const body =
      type === 'symlink'
        ? Buffer.from(e.target ?? '', 'utf8')
        : type === 'file'
          ? Buffer.isBuffer(e.data)
            ? e.data
            : Buffer.from(e.data ?? '', 'utf8')
          : Buffer.alloc(0);
    const perm = e.mode ?? (type === 'dir' ? 0o755 : type === 'symlink' ? 0o777 : 0o644);
    parts.push(
      header(
        name,
        ino++,
        TYPE_BITS[type] | (perm & 0o7777),
        e.uid ?? 0,
        e.gid ?? 0,
        type === 'dir' ? 2 : 1,
        e.mtimeSec ?? 0,
        body.length,
      ),
      body,
      pad4(body.length),
    );
  }
  parts.push(header('TRAILER!!!', 0, 0, 0, 0, 1, 0, 0));
  return Buffer.concat(parts);
}

/** The same archive gzip-compressed (the kernel needs CONFIG_RD_GZIP). */
export function writeCpioGz(entries: readonly CpioEntry[]): Buffer {
  return gzipSync(writeCpio(entries), { level: 1 });
}
