import type { TarEntryType } from './tar-reader.js';

export interface TarWriteEntry {
  path: string;
  type: TarEntryType;
  mode?: number;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch. Default 0, for reproducible archives. */
  mtime?: number;
  sizeBytes?: number;
  linkpath?: string;
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, Buffer | string>;
}

const FLAGS: Record<TarEntryType, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  char: '3',
  block: '4',
  directory: '5',
  fifo: '6',
  other: '0',
};

/** The zero blocks that end an archive. */
export const TAR_END = Buffer.alloc(1024);

/** Zero bytes that pad a body of `sizeBytes` to the 512-byte block. */
export function tarPadding(sizeBytes: number): Buffer {
  return Buffer.alloc((512 - (sizeBytes % 512)) % 512);
}

function paxRecord(key: string, value: Buffer): Buffer {
  const rest = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = rest.length + 1;
  while (String(len).length + rest.length !== len) len = String(len).length + rest.length;
  return Buffer.concat([Buffer.from(String(len)), rest]);
}

function octal(b: Buffer, off: number, len: number, v: number): void {
  b.write(`${v.toString(8).padStart(len - 1, '0')}\0`, off, len, 'ascii');
}

function rawHeader(name: string, flag: string, e: TarWriteEntry, size: number, linkpath: string): Buffer {
  const b = Buffer.alloc(512);
  b.write(name, 0, 100, 'utf8');
  octal(b, 100, 8, (e.mode ?? (e.type === 'directory' ? 0o755 : 0o644)) & 0o7777);
  octal(b, 108, 8, Math.min(e.uid ?? 0, 0o7777777));
  octal(b, 116, 8, Math.min(e.gid ?? 0, 0o7777777));
  octal(b, 124, 12, size);
  octal(b, 136, 12, Math.floor(e.mtime ?? 0));
  b.write(flag, 156, 1, 'latin1');
  b.write(linkpath, 157, 100, 'utf8');
  b.write('ustar\0', 257, 6, 'latin1');
  b.write('00', 263, 2, 'latin1');
  b.write(e.uname ?? '', 265, 32, 'utf8');
  b.write(e.gname ?? '', 297, 32, 'utf8');
  octal(b, 329, 8, e.devmajor ?? 0);
  octal(b, 337, 8, e.devminor ?? 0);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[i];
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return b;
}

/**
 * The header block(s) of one entry: a PAX extended header first when the path or link is long,
 * ids are large, or xattrs are set. The body (sizeBytes) and its padding follow.
 */
export function tarHeader(e: TarWriteEntry): Buffer {
  const size = e.type === 'file' ? (e.sizeBytes ?? 0) : 0;
  const linkpath = e.linkpath ?? '';
  const records: Buffer[] = [];
  let name = e.path;
  if (e.type === 'directory' && !name.endsWith('/')) name += '/';
  if (Buffer.byteLength(name) > 100) records.push(paxRecord('path', Buffer.from(name)));
  if (Buffer.byteLength(linkpath) > 100) records.push(paxRecord('linkpath', Buffer.from(linkpath)));
  if ((e.uid ?? 0) > 0o7777777) records.push(paxRecord('uid', Buffer.from(String(e.uid))));
  if ((e.gid ?? 0) > 0o7777777) records.push(paxRecord('gid', Buffer.from(String(e.gid))));
  if (size > 0o77777777777) records.push(paxRecord('size', Buffer.from(String(size))));
  for (const [k, v] of Object.entries(e.xattrs ?? {})) records.push(paxRecord(`SCHILY.xattr.${k}`, Buffer.from(v)));
  const main = rawHeader(
    Buffer.byteLength(name) > 100 ? name.slice(0, 99) : name,
    FLAGS[e.type],
    e,
    Math.min(size, 0o77777777777),
    Buffer.byteLength(linkpath) > 100 ? '' : linkpath,
  );
  if (records.length === 0) return main;
  const data = Buffer.concat(records);
  const paxHeader = rawHeader(`PaxHeaders/${name.slice(0, 80)}`, 'x', { path: '', type: 'file' }, data.length, '');
  return Buffer.concat([paxHeader, data, tarPadding(data.length), main]);
}

/** An in-memory file entry for building small archives. */
export interface TarMemoryEntry extends TarWriteEntry {
  data?: Buffer | string;
}

/** Builds a whole archive in memory (test images, configs): headers, bodies and end blocks. */
export function createTar(entries: readonly TarMemoryEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data);
    parts.push(tarHeader({ ...e, sizeBytes: e.type === 'file' ? data.length : 0 }));
    if (e.type === 'file') parts.push(data, tarPadding(data.length));
  }
  parts.push(TAR_END);
  return Buffer.concat(parts);
}
