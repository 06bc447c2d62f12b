import { Header, type HeaderData, Pax } from 'tar';
import type { TarEntryType } from './tar-reader.js';

// Header blocks are encoded by node-tar (ustar with a path prefix, PAX records when a field does
// not fit); bodies are written by the callers as they come, so a layer of any size streams. Every
// field is given explicitly (mtime defaults to 0, no atime/ctime): the same entries always give
// the same bytes, which keeps build layers and their digests reproducible.

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
}

const TYPE_NAMES: Record<TarEntryType, HeaderData['type']> = {
  file: 'File',
  link: 'Link',
  symlink: 'SymbolicLink',
  char: 'CharacterDevice',
  block: 'BlockDevice',
  directory: 'Directory',
  fifo: 'FIFO',
  other: 'File',
};

/** The zero blocks that end an archive. */
export const TAR_END = Buffer.alloc(1024);

/** Zero bytes that pad a body of `sizeBytes` to the 512-byte block. */
export function tarPadding(sizeBytes: number): Buffer {
  return Buffer.alloc((512 - (sizeBytes % 512)) % 512);
}

/**
 * The header block(s) of one entry: a PAX extended header first when the path or link is long,
 * ids or the size are large, or a name is not ASCII. The body (sizeBytes) and its padding follow.
 */
export function tarHeader(e: TarWriteEntry): Buffer {
  const size = e.type === 'file' ? (e.sizeBytes ?? 0) : 0;
  let path = e.path;
  if (e.type === 'directory' && !path.endsWith('/')) path += '/';
  const mtime = new Date(Math.floor(e.mtime ?? 0) * 1000);
  const data: HeaderData = {
    path,
    mode: (e.mode ?? (e.type === 'directory' ? 0o755 : 0o644)) & 0o7777,
    uid: e.uid ?? 0,
    gid: e.gid ?? 0,
    size,
    mtime,
    type: TYPE_NAMES[e.type],
    linkpath: e.linkpath ?? '',
    uname: e.uname ?? '',
    gname: e.gname ?? '',
    devmaj: e.devmajor ?? 0,
    devmin: e.devminor ?? 0,
  };
  const header = new Header(data);
  const block = Buffer.alloc(512);
  if (!header.encode(block)) return block;
  const pax = new Pax({
    path,
    linkpath: data.linkpath || undefined,
    uid: data.uid,
    gid: data.gid,
    size,
    mtime,
    uname: data.uname || undefined,
    gname: data.gname || undefined,
  });
  return Buffer.concat([pax.encode(), block]);
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
