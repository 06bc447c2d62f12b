import { createHash } from 'node:crypto';
import {
  chmod,
  lchown,
  link,
  lstat,
  lutimes,
  mkdir,
  open,
  readdir,
  readlink,
  rm,
  symlink,
  utimes,
} from 'node:fs/promises';
import { join } from 'node:path';
import { HyprError } from '../errors.js';
import { type Logger, silentLogger } from '../log.js';
import { runCommand } from '../process.js';
import { decompressLayer } from './decompress.js';
import { type TarHeader, readTar } from './tar-reader.js';

export interface UnpackOptions {
  /** Restore owners (lchown). Default: when running as root. */
  preserveOwnership?: boolean;
  /** Create character/block device nodes. Default: when running as root; otherwise they are skipped. */
  allowDevices?: boolean;
  /** When set, the uncompressed layer must hash to this (the config's rootfs.diff_ids entry). */
  diffId?: string;
  signal?: AbortSignal;
  logger?: Logger;
}

export interface UnpackStats {
  entries: number;
  files: number;
  bytes: number;
  whiteouts: number;
  /** Entries not created, with the reason (device nodes when not allowed, unknown types). */
  skipped: { path: string; reason: string }[];
  /** sha256 of the uncompressed tar (the layer's diff id). */
  diffId: string;
}

export class UnsafeLayerError extends HyprError {
  constructor(
    readonly entryPath: string,
    why: string,
  ) {
    super(
      'IMAGE_LAYER_UNSAFE',
      `layer entry "${entryPath}" ${why}; refusing to unpack it`,
      'the image is malformed or hostile; nothing was written outside the target directory',
    );
  }
}

const isRoot = () => process.getuid?.() === 0;
const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';
const MAX_LINK_HOPS = 40;

/** Splits an archive path into clean components; `..` is refused rather than resolved. */
function splitEntryPath(path: string): string[] {
  const parts: string[] = [];
  for (const c of path.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') throw new UnsafeLayerError(path, 'climbs out with ".."');
    if (c.includes('\0')) throw new UnsafeLayerError(path, 'contains a NUL byte');
    parts.push(c);
  }
  return parts;
}

/**
 * Unpacks layers into one directory. Every path is resolved *inside* the root as a chroot would:
 * symlinks met on the way (planted by this or an earlier layer) are followed with `/` meaning the
 * root and `..` stopping at it, and the last component is never followed, so no entry can create,
 * modify or link anything outside the root.
 */
export class LayerUnpacker {
  private readonly dirCache = new Map<string, string>();
  private readonly log: Logger;
  private readonly owners: boolean;
  private readonly devices: boolean;

  constructor(
    readonly root: string,
    private readonly opts: UnpackOptions = {},
  ) {
    this.log = (opts.logger ?? silentLogger).child({ op: 'unpack' });
    this.owners = opts.preserveOwnership ?? isRoot();
    this.devices = opts.allowDevices ?? isRoot();
  }

  /**
   * Resolves the directory `parts` inside the root, following symlinks within the root and creating
   * missing directories (mode 0755, as docker does for implied parents).
   */
  private async resolveDir(parts: readonly string[], entryPath: string): Promise<string> {
    const key = parts.join('/');
    const cached = this.dirCache.get(key);
    if (cached) return cached;
    const cur: string[] = [];
    const queue = [...parts];
    let hops = 0;
    while (queue.length) {
      const c = queue.shift()!;
      if (c === '' || c === '.') continue;
      if (c === '..') {
        cur.pop();
        continue;
      }
      const host = join(this.root, ...cur, c);
      const st = await lstat(host).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return undefined;
        throw e;
      });
      if (!st) {
        await mkdir(host, { mode: 0o755 });
        cur.push(c);
      } else if (st.isSymbolicLink()) {
        if (++hops > MAX_LINK_HOPS) throw new UnsafeLayerError(entryPath, 'goes through too many symlinks');
        const target = await readlink(host);
        if (target.startsWith('/')) cur.length = 0;
        queue.unshift(...target.split('/'));
      } else if (st.isDirectory()) {
        cur.push(c);
      } else {
        throw new HyprError(
          'IMAGE_LAYER_INVALID',
          `layer entry "${entryPath}" needs "${[...cur, c].join('/')}" to be a directory, but it is a file`,
        );
      }
    }
    const resolved = join(this.root, ...cur);
    this.dirCache.set(key, resolved);
    return resolved;
  }

  /** Unpacks one layer (gzip, zstd or plain tar) on top of what is in the root. */
  async unpackLayer(source: AsyncIterable<Uint8Array>): Promise<UnpackStats> {
    const stats: UnpackStats = { entries: 0, files: 0, bytes: 0, whiteouts: 0, skipped: [], diffId: '' };
    const hash = createHash('sha256');
    const signal = this.opts.signal;
    async function* hashed(src: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
      for await (const c of src) {
        hash.update(c);
        yield c;
      }
    }
    // Paths created by this layer: an opaque marker removes only what lower layers left.
    const created = new Set<string>();
    const dirTimes: { path: string; mtime: number }[] = [];
    for await (const { header, body } of readTar(hashed(decompressLayer(source)))) {
      signal?.throwIfAborted();
      stats.entries++;
      const parts = splitEntryPath(header.path);
      if (parts.length === 0) continue; // the root itself: keep the target's own metadata
      const name = parts[parts.length - 1];
      const parent = await this.resolveDir(parts.slice(0, -1), header.path);
      if (name === OPAQUE) {
        stats.whiteouts++;
        for (const child of await readdir(parent)) {
          const p = join(parent, child);
          if (!created.has(p)) await this.remove(p);
        }
        continue;
      }
      if (name.startsWith(WHITEOUT)) {
        stats.whiteouts++;
        if (name.startsWith(`${WHITEOUT}${WHITEOUT}`)) continue; // other aufs metadata
        await this.remove(join(parent, name.slice(WHITEOUT.length)));
        continue;
      }
      const dst = join(parent, name);
      const existing = await lstat(dst).catch(() => undefined);
      if (existing && !(existing.isDirectory() && header.type === 'directory')) await this.remove(dst);
      created.add(dst);
      switch (header.type) {
        case 'directory':
          if (!existing?.isDirectory()) await mkdir(dst, { mode: 0o700 });
          await this.applyOwnerMode(dst, header);
          dirTimes.push({ path: dst, mtime: header.mtime });
          break;
        case 'file': {
          const fh = await open(dst, 'wx', 0o600);
          try {
            for await (const chunk of body) {
              let off = 0;
              while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
              stats.bytes += chunk.length;
            }
            if (this.owners) await fh.chown(header.uid, header.gid);
            await fh.chmod(header.mode);
            await fh.utimes(header.mtime, header.mtime);
          } finally {
            await fh.close();
          }
          stats.files++;
          break;
        }
        case 'symlink':
          await symlink(header.linkpath, dst);
          if (this.owners) await lchown(dst, header.uid, header.gid);
          await lutimes(dst, header.mtime, header.mtime);
          break;
        case 'link': {
          const target = await this.resolveLinkTarget(header);
          await link(target, dst);
          break;
        }
        case 'char':
        case 'block':
          if (!this.devices) {
            created.delete(dst);
            stats.skipped.push({ path: header.path, reason: 'device nodes are not allowed here' });
            break;
          }
          await runCommand('mknod', [
            dst,
            header.type === 'char' ? 'c' : 'b',
            String(header.devmajor),
            String(header.devminor),
          ]);
          await this.applyOwnerMode(dst, header);
          break;
        case 'fifo':
          await runCommand('mkfifo', [dst]);
          await this.applyOwnerMode(dst, header);
          break;
        default:
          created.delete(dst);
          stats.skipped.push({ path: header.path, reason: `unsupported entry type "${header.flag}"` });
      }
      if (Object.keys(header.xattrs).length) this.log.debug({ path: header.path }, 'xattrs not restored');
    }
    // Directory times last: creating their children changed them.
    for (const d of dirTimes.reverse()) await utimes(d.path, d.mtime, d.mtime).catch(() => {});
    stats.diffId = `sha256:${hash.digest('hex')}`;
    if (this.opts.diffId && this.opts.diffId !== stats.diffId) {
      throw new HyprError(
        'IMAGE_BLOB_DIGEST_MISMATCH',
        `layer unpacks to ${stats.diffId}, but the image config says ${this.opts.diffId}`,
        'the image is corrupted; pull it again',
      );
    }
    this.log.debug({ entries: stats.entries, bytes: stats.bytes }, 'layer unpacked');
    return stats;
  }

  private async resolveLinkTarget(header: TarHeader): Promise<string> {
    const parts = splitEntryPath(header.linkpath);
    if (parts.length === 0) throw new UnsafeLayerError(header.path, 'is a hard link to the root');
    const dir = await this.resolveDir(parts.slice(0, -1), header.path);
    const target = join(dir, parts[parts.length - 1]);
    const st = await lstat(target).catch(() => undefined);
    if (!st)
      throw new HyprError('IMAGE_LAYER_INVALID', `hard link "${header.path}" points at missing "${header.linkpath}"`);
    if (st.isDirectory()) throw new UnsafeLayerError(header.path, 'is a hard link to a directory');
    return target;
  }

  private async applyOwnerMode(path: string, h: TarHeader): Promise<void> {
    if (this.owners) await lchown(path, h.uid, h.gid);
    await chmod(path, h.mode);
  }

  private async remove(path: string): Promise<void> {
    const st = await lstat(path).catch(() => undefined);
    if (!st) return;
    if (st.isDirectory() || st.isSymbolicLink()) this.dirCache.clear();
    await rm(path, { recursive: true, force: true });
  }
}

/** Unpacks one layer into `root` (see LayerUnpacker). */
export function unpackLayer(
  root: string,
  source: AsyncIterable<Uint8Array>,
  opts: UnpackOptions = {},
): Promise<UnpackStats> {
  return new LayerUnpacker(root, opts).unpackLayer(source);
}
