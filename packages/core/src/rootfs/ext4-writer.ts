/**
 * Writes a read-only ext4 image in one pass from a layer's entries: no scratch tree, no mkfs, no
 * debugfs. File data goes to the image as it arrives, each file contiguous from a data cursor; the
 * tree is kept in memory, and finish() writes after the data what only the whole tree decides:
 * directories, extent leaves, xattr blocks, then each group's bitmaps and inode table (flex_bg lets
 * them live anywhere), the group descriptors and the superblock last.
 *
 * Layout, 4 KiB blocks: block 0 the superblock (at byte 1024); blocks 1..R the group descriptors, R
 * reserved for `maxBytes` up front (those not used stay free); the data; directories, extent
 * leaves, xattr blocks; block bitmaps; inode bitmaps; inode tables. No journal, no backup
 * superblocks (sparse_super2 naming no backup group), no checksums, no htree: the image is an
 * overlayfs lower layer mounted read-only. `e2fsck -fn` is the oracle (ext4-writer.test.ts).
 */
import { closeSync, ftruncateSync, openSync, rmSync, writeSync } from 'node:fs';
import {
  BLOCK,
  DESCS_PER_BLOCK,
  DIRENT_TYPE,
  type DiskXattr,
  EXTENTS_PER_LEAF,
  Ext4WriterError,
  FAST_SYMLINK_BYTES,
  FIRST_INO,
  IBODY_XATTR_BYTES,
  INODES_PER_BLOCK,
  INODE_EXTENTS,
  INODE_SIZE,
  LINK_MAX,
  MAX_BLOCKS,
  MAX_EXTENT_BLOCKS,
  MAX_FILE_BLOCKS,
  MAX_SYMLINK_HOPS,
  type Ext4Node as Node,
  type NodeKind,
  PER_GROUP,
  ROOT_INO,
  XATTR_MAGIC,
  countBits,
  dataBlocks,
  directoryBlocks,
  diskXattr,
  extentsOf,
  setBits,
  sortXattrs,
  superblock,
  writeExtent,
  writeExtentHeader,
  writeInode,
  writeXattrs,
  xattrBytes,
} from './ext4-format.js';

export { Ext4WriterError, type Ext4WriterFailure } from './ext4-format.js';

/** An entry's metadata as a tar header gives it. */
export interface Ext4Meta {
  /** Permission bits with setuid/setgid/sticky; no type bits. */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch, may be fractional. */
  mtime: number;
}

/** Takes one file's body, in order; `end` checks that `size` bytes came. */
export interface FileSink {
  write(chunk: Uint8Array): void;
  end(): void;
}

export interface Ext4WriterOptions {
  /** Filesystem label, at most 16 bytes. Default `hypr-layer`. */
  label?: string;
  /** The image may not grow past this; the group descriptor blocks are reserved for it. Default 64 GiB. */
  maxBytes?: number;
  /** Tests only: extents shorter than ext4's 32768 blocks, so a small file needs an extent tree. */
  maxExtentBlocks?: number;
}

function newNode(kind: NodeKind, meta: Ext4Meta): Node {
  return {
    kind,
    size: 0,
    start: 0,
    ino: 0,
    links: 0,
    leafStart: 0,
    xattrBlock: 0,
    ...checkMeta(meta),
  };
}

function checkMeta(meta: Ext4Meta): Ext4Meta {
  const id = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
  if (!id(meta.uid) || !id(meta.gid) || !Number.isFinite(meta.mtime))
    throw new Ext4WriterError('invalid', `owner ${meta.uid}:${meta.gid} or time ${meta.mtime} cannot be stored`);
  return { mode: meta.mode & 0o7777, uid: meta.uid, gid: meta.gid, mtime: meta.mtime };
}

const show = (parts: readonly string[]) => `/${parts.join('/')}`;

const ZEROS = Buffer.alloc(64 * 1024);
/**
 * Data writes are gathered up to this size: a layer is mostly small files, and one write of 1 MiB
 * costs what one of 100 bytes does. Larger chunks go straight to the file.
 */
const PENDING_BYTES = 1 << 20;
const DIRECT_BYTES = 256 << 10;

/** All-zero chunks are not written: the fresh file reads as zeros there (a hole). */
function isZero(chunk: Uint8Array): boolean {
  for (let off = 0; off < chunk.length; off += ZEROS.length) {
    const n = Math.min(ZEROS.length, chunk.length - off);
    if (ZEROS.compare(chunk, off, off + n, 0, n) !== 0) return false;
  }
  return true;
}

/**
 * Builds an ext4 image from a stream of entries, as untarring a layer into an empty directory would
 * leave it: parents are made as needed (0755, root's), symlinked parents are followed inside the
 * image as a chroot would (the last component never), an entry replaces what is at its path (a
 * directory over a directory keeps its children). Methods are synchronous (writeSync at explicit
 * offsets, as image/unpack.ts): a file's body goes through its sink before the next entry.
 */
export class Ext4Writer {
  private readonly root: Node;
  private readonly maxBlocks: number;
  private readonly maxExtentBlocks: number;
  /** Group descriptor blocks reserved after the superblock; data starts after them. */
  private readonly gdtBlocks: number;
  /** The next free block of the data area. */
  private cursor: number;
  private readonly now = Math.floor(Date.now() / 1000);
  private sink?: { parts: readonly string[] };
  private lastParent?: { parts: readonly string[]; dir: Node };
  /** Small writes gathered into one (data positions only grow); the gaps between them are zeros. */
  private readonly pending = Buffer.alloc(PENDING_BYTES);
  private pendingAt = 0;
  private pendingLength = 0;
  private state: 'open' | 'failed' | 'closed' = 'open';

  private constructor(
    readonly path: string,
    private fd: number | undefined,
    private readonly opts: Ext4WriterOptions,
  ) {
    this.maxBlocks = Math.min(MAX_BLOCKS, Math.floor((opts.maxBytes ?? 64 * 2 ** 30) / BLOCK));
    this.maxExtentBlocks = Math.min(MAX_EXTENT_BLOCKS, Math.max(1, opts.maxExtentBlocks ?? MAX_EXTENT_BLOCKS));
    this.gdtBlocks = Math.ceil(Math.ceil(this.maxBlocks / PER_GROUP) / DESCS_PER_BLOCK);
    this.cursor = 1 + this.gdtBlocks;
    const meta = { mode: 0o755, uid: 0, gid: 0, mtime: this.now };
    this.root = { ...newNode('dir', meta), children: new Map() };
    this.root.children!.set('lost+found', { ...newNode('dir', { ...meta, mode: 0o700 }), children: new Map() });
  }

  /** Creates `outPath` (it must not exist) for a new image. */
  static async create(outPath: string, opts: Ext4WriterOptions = {}): Promise<Ext4Writer> {
    if (opts.label !== undefined && Buffer.byteLength(opts.label) > 16)
      throw new Ext4WriterError('invalid', `the label "${opts.label}" is longer than 16 bytes`);
    const fd = openSync(outPath, 'wx', 0o644);
    return new Ext4Writer(outPath, fd, opts);
  }

  /** A directory; one that exists takes the new metadata and keeps its children. `[]` is the root. */
  mkdir(parts: readonly string[], meta: Ext4Meta): void {
    this.ready();
    if (!parts.length) {
      Object.assign(this.root, checkMeta(meta));
      return;
    }
    const { dir, name } = this.parent(parts, meta.mtime);
    const old = dir.children!.get(name);
    if (old?.kind === 'dir') Object.assign(old, checkMeta(meta));
    else this.place(dir, name, { ...newNode('dir', meta), children: new Map() });
  }

  /** A regular file of `size` bytes; its body goes through the sink, which must be ended before the next entry. */
  addFile(parts: readonly string[], meta: Ext4Meta, size: number): FileSink {
    this.ready();
    if (!Number.isSafeInteger(size) || size < 0)
      throw new Ext4WriterError('invalid', `${show(parts)}: bad size ${size}`);
    const { dir, name } = this.parent(parts, meta.mtime);
    const blocks = Math.ceil(size / BLOCK);
    const leaves = Math.ceil(Math.ceil(blocks / this.maxExtentBlocks) / EXTENTS_PER_LEAF);
    if (blocks > MAX_FILE_BLOCKS || leaves > INODE_EXTENTS)
      throw new Ext4WriterError('too-large', `${show(parts)}: ${size} bytes is more than one file here may hold`);
    const file = newNode('file', meta);
    file.size = size;
    file.start = blocks ? this.allocate(blocks, parts) : 0;
    this.place(dir, name, file);
    const sink = { parts: parts.slice() };
    this.sink = sink;
    let pos = file.start * BLOCK;
    let written = 0;
    const fail = (why: string) => {
      this.state = 'failed';
      return new Ext4WriterError('size-mismatch', `${show(sink.parts)}: ${why}`);
    };
    return {
      write: (chunk) => {
        if (this.sink !== sink) throw new Ext4WriterError('state', `${show(sink.parts)}: written after its end`);
        if (written + chunk.length > size) throw fail(`more than the ${size} bytes its header says`);
        try {
          if (!isZero(chunk)) this.writeData(chunk, pos);
        } catch (e) {
          this.state = 'failed';
          throw e;
        }
        pos += chunk.length;
        written += chunk.length;
      },
      end: () => {
        if (this.sink !== sink) return;
        this.sink = undefined;
        if (written !== size) throw fail(`${written} bytes written, its header says ${size}`);
      },
    };
  }

  /** A symlink; targets under 60 bytes live in the inode, longer ones in a block. */
  symlink(parts: readonly string[], target: string, meta: Ext4Meta): void {
    this.ready();
    const bytes = Buffer.from(target);
    if (!bytes.length || bytes.length >= BLOCK || bytes.includes(0))
      throw new Ext4WriterError('invalid', `${show(parts)}: symlink target of ${bytes.length} bytes`);
    const { dir, name } = this.parent(parts, meta.mtime);
    const link = newNode('symlink', meta);
    link.link = target;
    link.size = bytes.length;
    if (bytes.length >= FAST_SYMLINK_BYTES) {
      link.start = this.allocate(1, parts);
      this.writeData(bytes, link.start * BLOCK);
    }
    this.place(dir, name, link);
  }

  /** Another name for the entry at `targetParts` (not followed if a symlink); never a directory. */
  hardlink(parts: readonly string[], targetParts: readonly string[]): void {
    this.ready();
    const target = targetParts.length ? this.lookup(targetParts) : this.root;
    if (!target)
      throw new Ext4WriterError('missing', `hard link ${show(parts)} points at missing ${show(targetParts)}`);
    if (target.kind === 'dir')
      throw new Ext4WriterError('directory', `hard link ${show(parts)} points at the directory ${show(targetParts)}`);
    const { dir, name } = this.parent(parts, target.mtime);
    this.place(dir, name, target);
  }

  device(parts: readonly string[], kind: 'char' | 'block', major: number, minor: number, meta: Ext4Meta): void {
    this.ready();
    const ok = (n: number, max: number) => Number.isInteger(n) && n >= 0 && n <= max;
    if (!ok(major, 0xfff) || !ok(minor, 0xfffff))
      throw new Ext4WriterError('invalid', `${show(parts)}: device ${major}:${minor} cannot be stored`);
    const { dir, name } = this.parent(parts, meta.mtime);
    this.place(dir, name, { ...newNode(kind, meta), major, minor });
  }

  fifo(parts: readonly string[], meta: Ext4Meta): void {
    this.ready();
    const { dir, name } = this.parent(parts, meta.mtime);
    this.place(dir, name, newNode('fifo', meta));
  }

  /** An overlayfs whiteout: a 0/0 character device, mode 0, owned by root. `mtime` defaults to now. */
  whiteout(parts: readonly string[], mtime = this.now): void {
    this.device(parts, 'char', 0, 0, { mode: 0, uid: 0, gid: 0, mtime });
  }

  /** Marks a directory opaque to lower layers (`trusted.overlay.opaque=y`); made, 0755, if absent. */
  opaque(parts: readonly string[], mtime = this.now): void {
    this.ready();
    const dir = this.resolveDir(parts, parts.length, mtime);
    (dir.xattrs ??= new Map()).set('trusted.overlay.opaque', Buffer.from('y'));
  }

  /** Sets an xattr of the entry at `parts` (not followed if a symlink); `[]` is the root. */
  setXattr(parts: readonly string[], name: string, value: Buffer): void {
    this.ready();
    const node = parts.length ? this.lookup(parts) : this.root;
    if (!node) throw new Ext4WriterError('missing', `${show(parts)}: no entry to set "${name}" on`);
    const attrs = new Map(node.xattrs).set(name, Buffer.from(value));
    // Refused now rather than at finish: a name ext4 cannot store, or more than one block holds.
    const disk = [...attrs].map(([n, v]) => diskXattr(n, v, show(parts)));
    if (32 + xattrBytes(disk) > BLOCK)
      throw new Ext4WriterError('xattr', `${show(parts)}: its extended attributes take more than one block`);
    node.xattrs = attrs;
  }

  /**
   * Writes the directories, inodes, bitmaps, group descriptors and superblock, sizes the file and
   * closes it (fsync is the caller's). `inodes` counts those in use, the 11 reserved ones included.
   */
  async finish(): Promise<{ sizeBytes: number; inodes: number }> {
    this.ready();
    try {
      const result = this.writeMetadata();
      ftruncateSync(this.fd!, result.sizeBytes);
      closeSync(this.fd!);
      this.fd = undefined;
      this.state = 'closed';
      return result;
    } catch (e) {
      this.state = 'failed';
      throw e;
    }
  }

  /** Closes and removes the image (a finished one too). */
  async abort(): Promise<void> {
    this.state = 'closed';
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
    rmSync(this.path, { force: true });
  }

  private ready(): void {
    if (this.state !== 'open') throw new Ext4WriterError('state', `the image ${this.path} is ${this.state}`);
    if (this.sink)
      throw new Ext4WriterError('state', `${show(this.sink.parts)}: the next entry came before its body ended`);
  }

  private writeData(chunk: Uint8Array, pos: number): void {
    const at = pos - this.pendingAt;
    if (this.pendingLength && at >= this.pendingLength && at + chunk.length <= PENDING_BYTES) {
      this.pending.fill(0, this.pendingLength, at);
      this.pending.set(chunk, at);
      this.pendingLength = at + chunk.length;
      return;
    }
    this.flushData();
    if (chunk.length >= DIRECT_BYTES) {
      writeAll(this.fd!, chunk, pos);
      return;
    }
    this.pending.set(chunk, 0);
    this.pendingAt = pos;
    this.pendingLength = chunk.length;
  }

  private flushData(): void {
    if (!this.pendingLength) return;
    writeAll(this.fd!, this.pending.subarray(0, this.pendingLength), this.pendingAt);
    this.pendingLength = 0;
  }

  private allocate(blocks: number, parts: readonly string[]): number {
    const start = this.cursor;
    if (start + blocks > this.maxBlocks)
      throw new Ext4WriterError(
        'too-large',
        `${show(parts)} does not fit: the image may not exceed ${this.maxBlocks * BLOCK} bytes`,
      );
    this.cursor += blocks;
    return start;
  }

  /** The directory an entry goes in (made as needed, with the entry's time) and its name. */
  private parent(parts: readonly string[], mtime: number): { dir: Node; name: string } {
    if (!parts.length) throw new Ext4WriterError('invalid', 'only a directory can be the root');
    const name = parts[parts.length - 1];
    if (Buffer.byteLength(name) > 255 || name.includes('/') || name.includes('\0'))
      throw new Ext4WriterError('invalid', `${show(parts)}: "${name}" cannot be a file name`);
    // Entries come directory by directory: the last parent is usually this one's.
    const last = this.lastParent;
    const count = parts.length - 1;
    if (last && last.parts.length === count) {
      let i = 0;
      while (i < count && last.parts[i] === parts[i]) i++;
      if (i === count) return { dir: last.dir, name };
    }
    const dir = this.resolveDir(parts, count, mtime);
    this.lastParent = { parts: parts.slice(0, count), dir };
    return { dir, name };
  }

  /** Puts `node` at `name`; replacing a directory or symlink may change what paths resolve to. */
  private place(dir: Node, name: string, node: Node): void {
    const old = dir.children!.get(name);
    if (old && old !== node && (old.kind === 'dir' || old.kind === 'symlink')) this.lastParent = undefined;
    dir.children!.set(name, node);
  }

  /** The entry at `parts`, parents followed, the last component not; undefined if absent. */
  private lookup(parts: readonly string[]): Node | undefined {
    let dir: Node;
    try {
      dir = this.resolveDir(parts, parts.length - 1, undefined);
    } catch (e) {
      if (e instanceof Ext4WriterError && (e.reason === 'missing' || e.reason === 'not-directory')) return undefined;
      throw e;
    }
    return dir.children!.get(parts[parts.length - 1]);
  }

  /**
   * Resolves the directory `parts` inside the image: a symlink met is followed with `/` meaning the
   * image's root and `..` stopping at it. A missing directory is made (0755, 0:0, `mtime`) or,
   * without `mtime`, is an error.
   */
  private resolveDir(parts: readonly string[], count: number, mtime: number | undefined): Node {
    const stack: Node[] = [this.root];
    const queue = parts.slice(0, count).reverse();
    const what = () => show(parts);
    let hops = 0;
    while (queue.length) {
      const c = queue.pop()!;
      if (c === '' || c === '.') continue;
      if (c === '..') {
        if (stack.length > 1) stack.pop();
        continue;
      }
      const dir = stack[stack.length - 1];
      let next = dir.children!.get(c);
      if (!next) {
        if (mtime === undefined) throw new Ext4WriterError('missing', `${what()}: "${c}" does not exist`);
        if (Buffer.byteLength(c) > 255 || c.includes('\0'))
          throw new Ext4WriterError('invalid', `${what()}: "${c}" cannot be a file name`);
        next = { ...newNode('dir', { mode: 0o755, uid: 0, gid: 0, mtime }), children: new Map() };
        dir.children!.set(c, next);
      }
      if (next.kind === 'symlink') {
        if (++hops > MAX_SYMLINK_HOPS) throw new Ext4WriterError('symlink-loop', `${what()}: too many symlinks`);
        const target = next.link!;
        if (target.startsWith('/')) stack.length = 1;
        const comps = target.split('/');
        for (let i = comps.length - 1; i >= 0; i--) queue.push(comps[i]);
        continue;
      }
      if (next.kind !== 'dir')
        throw new Ext4WriterError(
          'not-directory',
          `${what()} needs "${c}" to be a directory, but it is a ${next.kind}`,
        );
      stack.push(next);
    }
    return stack[stack.length - 1];
  }

  /**
   * Inode numbers in breadth-first order: the root 2, then 11 (lost+found, the root's first child)
   * on; link counts from the names. Replaced entries are never reached.
   */
  private numberInodes(): { inodes: Node[]; dirs: Node[]; parentIno: Map<Node, number>; inodeCount: number } {
    const inodes: Node[] = [];
    const dirs: Node[] = [this.root];
    const parentIno = new Map<Node, number>([[this.root, ROOT_INO]]);
    this.root.ino = ROOT_INO;
    let next = FIRST_INO;
    for (let i = 0; i < dirs.length; i++) {
      const d = dirs[i];
      let subdirs = 0;
      for (const child of d.children!.values()) {
        if (!child.ino) {
          child.ino = next++;
          inodes.push(child);
        }
        child.links++;
        if (child.kind === 'dir') {
          subdirs++;
          parentIno.set(child, d.ino);
          dirs.push(child);
        }
      }
      d.links = 2 + subdirs > LINK_MAX ? 1 : 2 + subdirs;
    }
    const inodeCount = next - 1;
    if (inodeCount > MAX_BLOCKS) throw new Ext4WriterError('too-large', 'too many entries for one ext4 image');
    return { inodes, dirs, parentIno, inodeCount };
  }

  /**
   * What follows the data, from the cursor on: directory blocks, extent leaves, xattr blocks (the
   * nodes learn where theirs are). Xattrs that fit in the inode are returned instead.
   */
  private blocksAfterData(
    dirs: readonly Node[],
    parentIno: Map<Node, number>,
    all: readonly Node[],
  ): { extra: Buffer[]; ibodyXattrs: Map<Node, DiskXattr[]>; metaStart: number } {
    const extra: Buffer[] = [];
    let block = this.cursor;
    for (const d of dirs) {
      const entries: [number, Buffer, number][] = [
        [d.ino, Buffer.from('.'), 2],
        [parentIno.get(d)!, Buffer.from('..'), 2],
      ];
      for (const [name, child] of d.children!) entries.push([child.ino, Buffer.from(name), DIRENT_TYPE[child.kind]]);
      const buf = directoryBlocks(entries);
      d.start = block;
      d.size = buf.length;
      block += buf.length / BLOCK;
      extra.push(buf);
    }
    for (const n of all) {
      if (n.kind === 'file' && n.links > 0xffff)
        throw new Ext4WriterError('too-large', `a file has ${n.links} hard links, more than ext4 keeps`);
      const extents = extentsOf(n.start, dataBlocks(n), this.maxExtentBlocks);
      if (extents.length <= INODE_EXTENTS) continue;
      const leaves = Math.ceil(extents.length / EXTENTS_PER_LEAF);
      if (leaves > INODE_EXTENTS)
        throw new Ext4WriterError('too-large', 'a file needs a deeper extent tree than written here');
      const buf = Buffer.alloc(leaves * BLOCK);
      for (let l = 0; l < leaves; l++) {
        const mine = extents.slice(l * EXTENTS_PER_LEAF, (l + 1) * EXTENTS_PER_LEAF);
        writeExtentHeader(buf, l * BLOCK, mine.length, EXTENTS_PER_LEAF, 0);
        mine.forEach((e, i) => writeExtent(buf, l * BLOCK + 12 + i * 12, e));
      }
      n.leafStart = block;
      block += leaves;
      extra.push(buf);
    }
    const ibodyXattrs = new Map<Node, DiskXattr[]>();
    for (const n of all) {
      if (!n.xattrs?.size) continue;
      const where = `inode ${n.ino}`;
      const attrs = sortXattrs([...n.xattrs].map(([name, value]) => diskXattr(name, value, where)));
      if (4 + xattrBytes(attrs) <= IBODY_XATTR_BYTES) {
        ibodyXattrs.set(n, attrs);
        continue;
      }
      if (32 + xattrBytes(attrs) > BLOCK)
        throw new Ext4WriterError('xattr', `${where}: its extended attributes take more than one block`);
      const buf = Buffer.alloc(BLOCK);
      buf.writeUInt32LE(XATTR_MAGIC, 0);
      buf.writeUInt32LE(1, 4); // h_refcount
      buf.writeUInt32LE(1, 8); // h_blocks
      let hash = 0;
      for (const h of writeXattrs(buf, attrs, 0, 32, BLOCK)) hash = ((hash << 16) ^ (hash >>> 16) ^ h) >>> 0;
      buf.writeUInt32LE(hash, 12);
      n.xattrBlock = block++;
      extra.push(buf);
    }
    return { extra, ibodyXattrs, metaStart: block };
  }

  /**
   * Groups: the bitmaps and inode tables at the tail, from `metaStart`, decide how many groups there
   * are. `metaEnd` is where the tail ends; `total`, the image's blocks, may reach past it.
   */
  private layoutGroups(
    metaStart: number,
    inodeCount: number,
  ): { groups: number; ipg: number; metaEnd: number; total: number } {
    let groups = Math.max(1, Math.ceil(inodeCount / PER_GROUP));
    let ipg = 0;
    let total = 0;
    for (;;) {
      ipg = Math.ceil(Math.ceil(inodeCount / groups) / INODES_PER_BLOCK) * INODES_PER_BLOCK;
      total = metaStart + groups * (2 + ipg / INODES_PER_BLOCK);
      const need = Math.ceil(total / PER_GROUP);
      if (need <= groups) break;
      groups = need;
    }
    const metaEnd = total;
    if (total <= (groups - 1) * PER_GROUP) total = (groups - 1) * PER_GROUP + 1; // the last group needs a block
    if (total > this.maxBlocks || groups > this.gdtBlocks * DESCS_PER_BLOCK)
      throw new Ext4WriterError('too-large', `the image would exceed ${this.maxBlocks * BLOCK} bytes`);
    return { groups, ipg, metaEnd, total };
  }

  /** Lays out the tail, then writes it: bitmaps, inode tables, group descriptors, the superblock last. */
  private writeMetadata(): { sizeBytes: number; inodes: number } {
    const fd = this.fd!;
    this.flushData();
    const { inodes, dirs, parentIno, inodeCount } = this.numberInodes();
    const all = [this.root, ...inodes];
    const { extra, ibodyXattrs, metaStart } = this.blocksAfterData(dirs, parentIno, all);
    const { groups, ipg, metaEnd, total } = this.layoutGroups(metaStart, inodeCount);
    const itb = ipg / INODES_PER_BLOCK;
    const blockBitmapAt = (g: number) => metaStart + g;
    const inodeBitmapAt = (g: number) => metaStart + groups + g;
    const inodeTableAt = (g: number) => metaStart + 2 * groups + g * itb;

    // Block bitmap: what live entries use; blocks of replaced files stay free.
    const blockMap = Buffer.alloc(groups * BLOCK);
    setBits(blockMap, 0, 1 + Math.ceil(groups / DESCS_PER_BLOCK));
    for (const n of inodes) {
      if (n.kind === 'file' || n.kind === 'symlink') setBits(blockMap, n.start, n.start + dataBlocks(n));
    }
    setBits(blockMap, this.cursor, metaEnd);
    setBits(blockMap, total, groups * PER_GROUP);

    // Inode tables, bitmaps and descriptors, group by group.
    const inodeMap = Buffer.alloc(groups * BLOCK);
    const gdt = Buffer.alloc(Math.ceil(groups / DESCS_PER_BLOCK) * BLOCK);
    const tables: Buffer[] = [];
    const dirsIn = new Array<number>(groups).fill(0);
    for (const d of dirs) dirsIn[Math.floor((d.ino - 1) / ipg)]++;
    let freeBlocks = 0;
    for (let g = 0; g < groups; g++) {
      const used = Math.min(ipg, Math.max(0, inodeCount - g * ipg));
      setBits(inodeMap, g * PER_GROUP, g * PER_GROUP + used);
      setBits(inodeMap, g * PER_GROUP + ipg, (g + 1) * PER_GROUP);
      tables.push(Buffer.alloc(Math.ceil(used / INODES_PER_BLOCK) * BLOCK));
      const free = PER_GROUP - countBits(blockMap, g * BLOCK, (g + 1) * BLOCK);
      freeBlocks += free;
      const o = g * 32;
      gdt.writeUInt32LE(blockBitmapAt(g), o);
      gdt.writeUInt32LE(inodeBitmapAt(g), o + 4);
      gdt.writeUInt32LE(inodeTableAt(g), o + 8);
      gdt.writeUInt16LE(free, o + 12);
      gdt.writeUInt16LE(ipg - used, o + 14);
      gdt.writeUInt16LE(dirsIn[g], o + 16);
    }
    for (const n of all) {
      const g = Math.floor((n.ino - 1) / ipg);
      writeInode(tables[g], ((n.ino - 1) % ipg) * INODE_SIZE, n, ibodyXattrs.get(n), this.maxExtentBlocks);
    }

    // What follows the data, in order (gathered into writes of about 1 MiB), then each group's used
    // inode table blocks, then the head.
    const tail = [...extra, blockMap, inodeMap];
    let pos = this.cursor * BLOCK;
    for (let i = 0; i < tail.length; ) {
      const batch = [tail[i++]];
      let bytes = batch[0].length;
      while (i < tail.length && bytes < 1 << 20) {
        bytes += tail[i].length;
        batch.push(tail[i++]);
      }
      const buf = batch.length === 1 ? batch[0] : Buffer.concat(batch, bytes);
      writeAll(fd, buf, pos);
      pos += bytes;
    }
    tables.forEach((t, g) => t.length && writeAll(fd, t, inodeTableAt(g) * BLOCK));
    writeAll(fd, gdt, BLOCK);
    const freeInodes = groups * ipg - inodeCount;
    writeAll(
      fd,
      superblock({ total, groups, ipg, freeBlocks, freeInodes, now: this.now, label: this.opts.label ?? 'hypr-layer' }),
      1024,
    );
    return { sizeBytes: total * BLOCK, inodes: inodeCount };
  }
}

function writeAll(fd: number, buf: Uint8Array, pos: number): void {
  for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off, pos + off);
}
