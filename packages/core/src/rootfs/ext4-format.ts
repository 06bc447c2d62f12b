/**
 * The on-disk format pieces of the ext4 images Ext4Writer (ext4-writer.ts) writes: constants and
 * feature flags, timestamps, extended attributes (in the inode or in a block, POSIX ACLs in ext4's
 * own encoding), linear directory blocks, extents, bitmaps. Pure encoding: no I/O here.
 */
import { randomBytes } from 'node:crypto';
import { HyprError } from '../errors.js';

export const BLOCK = 4096;
/** Blocks and (at most) inodes per group: the bits of one bitmap block. */
export const PER_GROUP = BLOCK * 8;
export const INODE_SIZE = 256;
export const EXTRA_ISIZE = 32;
export const INODES_PER_BLOCK = BLOCK / INODE_SIZE;
export const DESCS_PER_BLOCK = BLOCK / 32;
export const ROOT_INO = 2;
/** s_first_ino, lost+found's inode as mkfs makes it; 1-10 are reserved and stay zero. */
export const FIRST_INO = 11;
/** ext4's longest initialised extent, and extents per block: (4096 - 12-byte header) / 12. */
export const MAX_EXTENT_BLOCKS = 32768;
export const EXTENTS_PER_LEAF = Math.floor((BLOCK - 12) / 12);
/** Extents or index entries in the inode's i_block; a depth-1 tree has at most this many leaves. */
export const INODE_EXTENTS = 4;
/** Past this a directory's link count is 1 (dir_nlink), as e2fsck's EXT2_LINK_MAX. */
export const LINK_MAX = 65000;
export const MAX_SYMLINK_HOPS = 40;
/** Targets shorter than i_block's 60 bytes live in it (a fast symlink). */
export const FAST_SYMLINK_BYTES = 60;
/** Without the 64bit feature block numbers are 32-bit; i_blocks (512-byte units) is too. */
export const MAX_BLOCKS = 2 ** 32 - 1;
export const MAX_FILE_BLOCKS = 2 ** 29 - 1;
/** Bytes after i_extra_isize: the xattr magic, entries, a 4-byte end mark, values. */
export const IBODY_XATTR_BYTES = INODE_SIZE - 128 - EXTRA_ISIZE;
export const XATTR_MAGIC = 0xea020000;

export const COMPAT_EXT_ATTR = 0x8;
export const COMPAT_SPARSE_SUPER2 = 0x200;
export const INCOMPAT_FILETYPE = 0x2;
export const INCOMPAT_EXTENTS = 0x40;
export const INCOMPAT_FLEX_BG = 0x200;
export const RO_COMPAT_LARGE_FILE = 0x2;
export const RO_COMPAT_DIR_NLINK = 0x20;
export const RO_COMPAT_EXTRA_ISIZE = 0x40;
export const EXTENTS_FL = 0x80000;

export type NodeKind = 'dir' | 'file' | 'symlink' | 'char' | 'block' | 'fifo';

export const TYPE_BITS: Record<NodeKind, number> = {
  fifo: 0o010000,
  char: 0o020000,
  dir: 0o040000,
  block: 0o060000,
  file: 0o100000,
  symlink: 0o120000,
};
/** ext4_dir_entry_2's file_type. */
export const DIRENT_TYPE: Record<NodeKind, number> = { file: 1, dir: 2, char: 3, block: 4, fifo: 5, symlink: 7 };

/** Why an entry could not be written: the layer alone cannot be this image (the caller falls back). */
export type Ext4WriterFailure =
  | 'missing'
  | 'directory'
  | 'not-directory'
  | 'symlink-loop'
  | 'invalid'
  | 'too-large'
  | 'size-mismatch'
  | 'xattr'
  | 'state';

export class Ext4WriterError extends HyprError {
  constructor(
    readonly reason: Ext4WriterFailure,
    message: string,
  ) {
    super('ROOTFS_LAYER_DISK_FAILED', message, 'the image gets one flattened disk instead');
  }
}

export const align4 = (n: number) => (n + 3) & ~3;

/** An ext4 timestamp: low 32 bits of the seconds, and (nanoseconds << 2 | epoch bits) for the extra field. */
export function encodeTime(t: number): [number, number] {
  let sec = Math.floor(t);
  let nsec = Math.round((t - sec) * 1e9);
  if (nsec >= 1e9) {
    sec += 1;
    nsec = 0;
  }
  sec = Math.min(Math.max(sec, -(2 ** 31)), 2 ** 34 - 2 ** 31 - 1);
  const lo = ((sec % 2 ** 32) + 2 ** 32) % 2 ** 32;
  const epoch = ((sec - (lo | 0)) / 2 ** 32) & 3;
  return [lo, (nsec * 4 + epoch) >>> 0];
}

/** ext2fs_ext_attr_hash_entry: over the name's bytes, then the value's little-endian words. */
export function xattrHash(name: Buffer, value: Buffer): number {
  let h = 0;
  for (const c of name) h = ((h << 5) ^ (h >>> 27) ^ c) >>> 0;
  if (value.length) {
    const padded = Buffer.alloc(align4(value.length));
    value.copy(padded);
    for (let i = 0; i < padded.length; i += 4) h = ((h << 16) ^ (h >>> 16) ^ padded.readUInt32LE(i)) >>> 0;
  }
  return h;
}

export interface DiskXattr {
  index: number;
  name: Buffer;
  value: Buffer;
}

export const XATTR_PREFIXES: readonly [string, number][] = [
  ['user.', 1],
  ['trusted.', 4],
  ['security.', 6],
];
export const ACL_XATTRS: Record<string, number> = { 'system.posix_acl_access': 2, 'system.posix_acl_default': 3 };

/** An xattr as ext4 stores it: a name index for the prefix, POSIX ACLs in ext4's own compact form. */
export function diskXattr(name: string, value: Buffer, where: string): DiskXattr {
  const acl = ACL_XATTRS[name];
  if (acl !== undefined) return { index: acl, name: Buffer.alloc(0), value: aclToDisk(value, name, where) };
  for (const [prefix, index] of XATTR_PREFIXES) {
    if (!name.startsWith(prefix) || name.length === prefix.length) continue;
    const suffix = Buffer.from(name.slice(prefix.length));
    if (suffix.length > 255) break;
    return { index, name: suffix, value };
  }
  throw new Ext4WriterError('xattr', `${where}: extended attribute "${name}" cannot be stored in ext4`);
}

/** posix_acl_xattr (version 2, 8-byte entries) → ext4_acl (version 1, 4-byte entries but for named users and groups). */
export function aclToDisk(value: Buffer, name: string, where: string): Buffer {
  const bad = () => new Ext4WriterError('xattr', `${where}: "${name}" is not a POSIX ACL`);
  if (value.length < 4 || (value.length - 4) % 8 !== 0 || value.readUInt32LE(0) !== 2) throw bad();
  const out: Buffer[] = [Buffer.from([1, 0, 0, 0])];
  for (let off = 4; off < value.length; off += 8) {
    const tag = value.readUInt16LE(off);
    const named = tag === 0x02 || tag === 0x08; // ACL_USER, ACL_GROUP
    if (!named && tag !== 0x01 && tag !== 0x04 && tag !== 0x10 && tag !== 0x20) throw bad();
    out.push(value.subarray(off, off + (named ? 8 : 4)));
  }
  return Buffer.concat(out);
}

/** The on-disk order (kernel's ext4_xattr_find_entry stops early on a sorted block): index, name length, name. */
export function sortXattrs(attrs: DiskXattr[]): DiskXattr[] {
  return attrs.sort((a, b) => a.index - b.index || a.name.length - b.name.length || Buffer.compare(a.name, b.name));
}

export function xattrBytes(attrs: readonly DiskXattr[]): number {
  let n = 4; // the end mark
  for (const a of attrs) n += align4(16 + a.name.length) + align4(a.value.length);
  return n;
}

/**
 * Writes xattr entries from `first` and their values down from `end`; value offsets count from
 * `base` (the first entry in an inode, the block's start in a block). Returns the entries' hashes.
 */
export function writeXattrs(
  buf: Buffer,
  attrs: readonly DiskXattr[],
  base: number,
  first: number,
  end: number,
): number[] {
  const hashes: number[] = [];
  let e = first;
  let v = end;
  for (const a of attrs) {
    v -= align4(a.value.length);
    const hash = xattrHash(a.name, a.value);
    buf[e] = a.name.length;
    buf[e + 1] = a.index;
    buf.writeUInt16LE(a.value.length ? v - base : 0, e + 2);
    buf.writeUInt32LE(a.value.length, e + 8);
    buf.writeUInt32LE(hash, e + 12);
    a.name.copy(buf, e + 16);
    a.value.copy(buf, v);
    hashes.push(hash);
    e += align4(16 + a.name.length);
  }
  return hashes;
}

/** A block of a directory's entries: "." and ".." first, each entry's rec_len reaching the next, the last the block's end. */
export function directoryBlocks(entries: readonly [number, Buffer, number][]): Buffer {
  const blocks: Buffer[] = [Buffer.alloc(BLOCK)];
  let buf = blocks[0];
  let off = 0;
  let last = 0;
  for (const [ino, name, type] of entries) {
    const len = align4(8 + name.length);
    if (off + len > BLOCK) {
      buf.writeUInt16LE(BLOCK - last, last + 4);
      buf = Buffer.alloc(BLOCK);
      blocks.push(buf);
      off = 0;
    }
    buf.writeUInt32LE(ino, off);
    buf.writeUInt16LE(len, off + 4);
    buf[off + 6] = name.length;
    buf[off + 7] = type;
    name.copy(buf, off + 8);
    last = off;
    off += len;
  }
  buf.writeUInt16LE(BLOCK - last, last + 4);
  return blocks.length === 1 ? blocks[0] : Buffer.concat(blocks);
}

/** A contiguous run as extents: [logical block, length, physical block]. */
export function extentsOf(start: number, blocks: number, maxLen: number): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let l = 0; l < blocks; l += maxLen) out.push([l, Math.min(maxLen, blocks - l), start + l]);
  return out;
}

export function writeExtentHeader(buf: Buffer, off: number, entries: number, max: number, depth: number): void {
  buf.writeUInt16LE(0xf30a, off);
  buf.writeUInt16LE(entries, off + 2);
  buf.writeUInt16LE(max, off + 4);
  buf.writeUInt16LE(depth, off + 6);
}

export function writeExtent(buf: Buffer, off: number, [logical, len, physical]: [number, number, number]): void {
  buf.writeUInt32LE(logical, off);
  buf.writeUInt16LE(len, off + 4);
  buf.writeUInt32LE(physical, off + 8); // ee_start_hi (off + 6) stays 0: no 64bit
}

/** Sets bits [from, to) of a bitmap. */
export function setBits(map: Buffer, from: number, to: number): void {
  while (from < to && from & 7) map[from >> 3] |= 1 << (from++ & 7);
  if (to - from >= 8) {
    map.fill(0xff, from >> 3, to >> 3);
    from = to & ~7;
  }
  while (from < to) map[from >> 3] |= 1 << (from++ & 7);
}

export const BIT_COUNT = Uint8Array.from({ length: 256 }, (_, i) => {
  let n = 0;
  for (let b = i; b; b >>= 1) n += b & 1;
  return n;
});

export function countBits(map: Buffer, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) n += BIT_COUNT[map[i]];
  return n;
}

/** One entry of the image as the writer holds it until finish(). */
export interface Ext4Node {
  kind: NodeKind;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  children?: Map<string, Ext4Node>;
  /** Bytes: a file's, a symlink target's; a directory's blocks once laid out. */
  size: number;
  /** First block of a file's data, a long symlink's target or a directory's entries. */
  start: number;
  link?: string;
  major?: number;
  minor?: number;
  xattrs?: Map<string, Buffer>;
  /** Given by finish(): inode number, names, extent leaves and xattr block. */
  ino: number;
  links: number;
  leafStart: number;
  xattrBlock: number;
}

/** Blocks of a node's data: a file's, a directory's entries, a long symlink's target. */
export function dataBlocks(n: Ext4Node): number {
  if (n.kind === 'file' || n.kind === 'dir') return Math.ceil(n.size / BLOCK);
  return n.kind === 'symlink' && n.start ? 1 : 0;
}

/** Node `n` as an inode at `o` of `buf`, its extents split at `maxExtentBlocks`. */
export function writeInode(
  buf: Buffer,
  o: number,
  n: Ext4Node,
  xattrs: DiskXattr[] | undefined,
  maxExtentBlocks: number,
): void {
  const [sec, extra] = encodeTime(n.mtime);
  const blocks = dataBlocks(n);
  const extents = n.kind === 'file' || n.kind === 'dir' || (n.kind === 'symlink' && n.start);
  const leaves = n.leafStart ? Math.ceil(Math.ceil(blocks / maxExtentBlocks) / EXTENTS_PER_LEAF) : 0;
  buf.writeUInt16LE(TYPE_BITS[n.kind] | n.mode, o);
  buf.writeUInt16LE(n.uid & 0xffff, o + 2);
  buf.writeUInt32LE(n.size % 2 ** 32, o + 4);
  for (const at of [8, 12, 16]) buf.writeUInt32LE(sec, o + at); // atime, ctime, mtime
  buf.writeUInt16LE(n.gid & 0xffff, o + 24);
  buf.writeUInt16LE(n.links, o + 26);
  buf.writeUInt32LE((blocks + leaves + (n.xattrBlock ? 1 : 0)) * (BLOCK / 512), o + 28);
  buf.writeUInt32LE(extents ? EXTENTS_FL : 0, o + 32);
  const iblock = o + 40;
  if (extents) {
    const list = extentsOf(n.start, blocks, maxExtentBlocks);
    if (!leaves) {
      writeExtentHeader(buf, iblock, list.length, INODE_EXTENTS, 0);
      list.forEach((e, i) => writeExtent(buf, iblock + 12 + i * 12, e));
    } else {
      writeExtentHeader(buf, iblock, leaves, INODE_EXTENTS, 1);
      for (let l = 0; l < leaves; l++) {
        buf.writeUInt32LE(list[l * EXTENTS_PER_LEAF][0], iblock + 12 + l * 12);
        buf.writeUInt32LE(n.leafStart + l, iblock + 16 + l * 12);
      }
    }
  } else if (n.kind === 'symlink') {
    buf.write(n.link!, iblock);
  } else if (n.kind === 'char' || n.kind === 'block') {
    const major = n.major!;
    const minor = n.minor!;
    if (major < 256 && minor < 256) buf.writeUInt32LE((major << 8) | minor, iblock);
    else buf.writeUInt32LE(((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)) >>> 0, iblock + 4);
  }
  buf.writeUInt32LE(n.xattrBlock, o + 104);
  buf.writeUInt32LE(Math.floor(n.size / 2 ** 32), o + 108);
  buf.writeUInt16LE(n.uid >>> 16, o + 120);
  buf.writeUInt16LE(n.gid >>> 16, o + 122);
  buf.writeUInt16LE(EXTRA_ISIZE, o + 128);
  for (const at of [132, 136, 140]) buf.writeUInt32LE(extra, o + at); // ctime, mtime, atime extra
  buf.writeUInt32LE(sec, o + 144); // crtime
  buf.writeUInt32LE(extra, o + 148);
  if (xattrs) {
    const header = o + 128 + EXTRA_ISIZE;
    buf.writeUInt32LE(XATTR_MAGIC, header);
    writeXattrs(buf, xattrs, header + 4, header + 4, o + INODE_SIZE);
  }
}

/** The superblock (1024 bytes, at byte 1024 of the image). */
export function superblock(s: {
  now: number;
  label: string;
  total: number;
  groups: number;
  ipg: number;
  freeBlocks: number;
  freeInodes: number;
}): Buffer {
  const sb = Buffer.alloc(1024);
  sb.writeUInt32LE(s.groups * s.ipg, 0x0);
  sb.writeUInt32LE(s.total, 0x4);
  sb.writeUInt32LE(s.freeBlocks, 0xc);
  sb.writeUInt32LE(s.freeInodes, 0x10);
  sb.writeUInt32LE(2, 0x18); // log2(block size) - 10
  sb.writeUInt32LE(2, 0x1c); // clusters are blocks
  sb.writeUInt32LE(PER_GROUP, 0x20);
  sb.writeUInt32LE(PER_GROUP, 0x24);
  sb.writeUInt32LE(s.ipg, 0x28);
  sb.writeUInt32LE(s.now, 0x30); // wtime
  sb.writeUInt16LE(0xffff, 0x36); // max mount count -1: no forced check
  sb.writeUInt16LE(0xef53, 0x38);
  sb.writeUInt16LE(1, 0x3a); // clean
  sb.writeUInt16LE(1, 0x3c); // errors=continue
  sb.writeUInt32LE(s.now, 0x40); // lastcheck
  sb.writeUInt32LE(1, 0x4c); // dynamic revision
  sb.writeUInt32LE(FIRST_INO, 0x54);
  sb.writeUInt16LE(INODE_SIZE, 0x58);
  sb.writeUInt32LE(COMPAT_EXT_ATTR | COMPAT_SPARSE_SUPER2, 0x5c);
  sb.writeUInt32LE(INCOMPAT_FILETYPE | INCOMPAT_EXTENTS | INCOMPAT_FLEX_BG, 0x60);
  sb.writeUInt32LE(RO_COMPAT_LARGE_FILE | RO_COMPAT_DIR_NLINK | RO_COMPAT_EXTRA_ISIZE, 0x64);
  const uuid = randomBytes(16);
  uuid[6] = (uuid[6] & 0x0f) | 0x40;
  uuid[8] = (uuid[8] & 0x3f) | 0x80;
  uuid.copy(sb, 0x68);
  Buffer.from(s.label).copy(sb, 0x78, 0, 16);
  randomBytes(16).copy(sb, 0xec); // hash seed
  sb[0xfc] = 1; // half_md4, as mkfs (no htree here)
  sb.writeUInt32LE(0x000c, 0x100); // user_xattr, acl
  sb.writeUInt32LE(s.now, 0x108); // mkfs time
  sb.writeUInt16LE(EXTRA_ISIZE, 0x15c);
  sb.writeUInt16LE(EXTRA_ISIZE, 0x15e);
  sb[0x174] = 4; // 16 groups per flex group, as mkfs
  // s_backup_bgs (0x24c) stay 0, 0: with sparse_super2, no group but 0 holds a superblock.
  return sb;
}
