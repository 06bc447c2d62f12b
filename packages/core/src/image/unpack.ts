import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { HyprError } from '../errors.js';
import { type Logger, silentLogger } from '../log.js';
import { runCommand } from '../process.js';
import { decompressLayer } from './decompress.js';
import { type TarEntry, type TarHeader, readTar } from './tar-reader.js';
import { ExpansionMeter, type UnpackLimits, resolveUnpackLimits } from './unpack-limits.js';

export interface UnpackOptions {
  /** Restore owners (lchown). Default: when running as root. */
  preserveOwnership?: boolean;
  /** Create character/block device nodes. Default: when running as root; otherwise they are skipped. */
  allowDevices?: boolean;
  /** When set, the uncompressed layer must hash to this (the config's rootfs.diff_ids entry). */
  diffId?: string;
  /** Expansion limits (decompression bombs); absent values come from the environment or the defaults. */
  limits?: Partial<UnpackLimits>;
  /** The layer as errors name it (its digest). */
  layerName?: string;
  /** Uncompressed bytes of the image's earlier layers, counted against `limits.maxImageBytes`. */
  imageBytesBefore?: number;
  /**
   * Unpack only this path of the image (e.g. `/etc/nginx`, a volume's copy-up): entries under it,
   * and directories above it; other entries are skipped. Hard links to files outside it are skipped.
   */
  only?: string;
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
  /** Size of the uncompressed tar. */
  tarBytes: number;
}

export class UnsafeLayerError extends HyprError {
  constructor(
    readonly entryPath: string,
    readonly why: string,
    /** The layer (its digest) holding the entry, when known. */
    readonly layer?: string,
  ) {
    super(
      'IMAGE_LAYER_UNSAFE',
      `${layer ? `layer ${layer}: entry` : 'layer entry'} "${entryPath}" ${why}; refusing to unpack it`,
      'the image is malformed or hostile; nothing was written outside the target directory',
    );
  }
}

/** An error about a layer's content, with the layer named (the digest says which blob is bad). */
export function inLayer(e: unknown, layer: string | undefined): unknown {
  if (layer === undefined || !(e instanceof HyprError)) return e;
  if (e instanceof UnsafeLayerError) return e.layer ? e : new UnsafeLayerError(e.entryPath, e.why, layer);
  if (e.code !== 'IMAGE_LAYER_INVALID') return e;
  return new HyprError(e.code, `layer ${layer}: ${e.message}`, e.hint, { cause: e });
}

const isRoot = () => process.getuid?.() === 0;
/** The prefix of a whiteout entry's name, and the name of an opaque-directory marker (OCI image spec). */
export const WHITEOUT = '.wh.';
export const OPAQUE = '.wh..wh..opq';
const MAX_LINK_HOPS = 40;

// Metadata calls are synchronous on purpose: each is a few microseconds of syscall, while a trip
// through libuv's thread pool costs tens; with six per file that decided the unpack time.
function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Splits an archive path into clean components; `..` is refused rather than resolved. */
export function splitEntryPath(path: string): string[] {
  const parts: string[] = [];
  for (const c of path.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') throw new UnsafeLayerError(path, 'climbs out with ".."');
    if (c.includes('\0')) throw new UnsafeLayerError(path, 'contains a NUL byte');
    parts.push(c);
  }
  return parts;
}

/** A hard link's target as clean components; `..` in it, or the root as its target, is refused. */
export function linkTargetParts(header: TarHeader): string[] {
  let parts: string[];
  try {
    parts = splitEntryPath(header.linkpath);
  } catch (e) {
    if (!(e instanceof UnsafeLayerError)) throw e;
    throw new UnsafeLayerError(header.path, `is a hard link to "${header.linkpath}", which ${e.why}`);
  }
  if (parts.length === 0) throw new UnsafeLayerError(header.path, 'is a hard link to the root');
  return parts;
}

/** Whether `path` is `dir` or inside it (both as clean components). */
function isUnder(path: readonly string[], dir: readonly string[]): boolean {
  return path.length >= dir.length && dir.every((c, i) => path[i] === c);
}

/**
 * A layer's tar entries: decompressed (gzip, zstd or plain), counted against the expansion limits,
 * hashed. `verify`, after the last entry, gives the diff id and size and checks the diff id against
 * `opts.diffId` when given.
 */
export function readLayerEntries(
  source: AsyncIterable<Uint8Array>,
  opts: Pick<UnpackOptions, 'diffId' | 'limits' | 'layerName' | 'imageBytesBefore'>,
): { entries: AsyncGenerator<TarEntry>; verify(): { diffId: string; tarBytes: number } } {
  const meter = new ExpansionMeter(
    resolveUnpackLimits(opts.limits),
    opts.layerName ?? '(unnamed)',
    opts.imageBytesBefore,
  );
  const hash = createHash('sha256');
  async function* hashed(src: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const c of src) {
      hash.update(c);
      yield c;
    }
  }
  return {
    entries: readTar(hashed(meter.countUncompressed(decompressLayer(meter.countCompressed(source))))),
    verify() {
      const diffId = `sha256:${hash.digest('hex')}`;
      if (opts.diffId && opts.diffId !== diffId) {
        throw new HyprError(
          'IMAGE_BLOB_DIGEST_MISMATCH',
          `layer unpacks to ${diffId}, but the image config says ${opts.diffId}`,
          'the image is corrupted; pull it again',
        );
      }
      return { diffId, tarBytes: meter.uncompressedBytes };
    },
  };
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
  private readonly only?: string[];

  constructor(
    readonly root: string,
    private readonly opts: UnpackOptions = {},
  ) {
    this.log = (opts.logger ?? silentLogger).child({ op: 'unpack' });
    this.owners = opts.preserveOwnership ?? isRoot();
    this.devices = opts.allowDevices ?? isRoot();
    this.only = opts.only === undefined ? undefined : splitEntryPath(opts.only);
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
      const st = lstatOrUndefined(host);
      if (!st) {
        mkdirSync(host, { mode: 0o755 });
        cur.push(c);
      } else if (st.isSymbolicLink()) {
        if (++hops > MAX_LINK_HOPS) throw new UnsafeLayerError(entryPath, 'goes through too many symlinks');
        const target = readlinkSync(host);
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
    try {
      return await this.unpackEntries(source);
    } catch (e) {
      throw inLayer(e, this.opts.layerName);
    }
  }

  private async unpackEntries(source: AsyncIterable<Uint8Array>): Promise<UnpackStats> {
    const stats: UnpackStats = { entries: 0, files: 0, bytes: 0, whiteouts: 0, skipped: [], diffId: '', tarBytes: 0 };
    const signal = this.opts.signal;
    // Paths created by this layer: an opaque marker removes only what lower layers left.
    const created = new Set<string>();
    const dirTimes: { path: string; mtime: number }[] = [];
    const layer = readLayerEntries(source, this.opts);
    for await (const { header, body } of layer.entries) {
      signal?.throwIfAborted();
      stats.entries++;
      const parts = splitEntryPath(header.path);
      if (parts.length === 0) continue; // the root itself: keep the target's own metadata
      const name = parts[parts.length - 1];
      if (this.only && !this.wanted(parts, header.type)) continue;
      const parent = await this.resolveDir(parts.slice(0, -1), header.path);
      if (name === OPAQUE) {
        stats.whiteouts++;
        for (const child of readdirSync(parent)) {
          const p = join(parent, child);
          if (!created.has(p)) this.remove(p);
        }
        continue;
      }
      if (name.startsWith(WHITEOUT)) {
        stats.whiteouts++;
        if (name.startsWith(`${WHITEOUT}${WHITEOUT}`)) continue; // other aufs metadata
        const target = name.slice(WHITEOUT.length);
        // `.wh.`, `.wh..` and `.wh...` would remove the directory itself or its parent.
        if (target === '' || target === '.' || target === '..')
          throw new UnsafeLayerError(header.path, `is a whiteout of "${target}"`);
        this.remove(join(parent, target));
        continue;
      }
      const dst = join(parent, name);
      const existing = lstatOrUndefined(dst);
      if (existing && !(existing.isDirectory() && header.type === 'directory')) this.remove(dst);
      created.add(dst);
      switch (header.type) {
        case 'directory':
          if (!existing?.isDirectory()) mkdirSync(dst, { mode: 0o700 });
          this.applyOwnerMode(dst, header);
          dirTimes.push({ path: dst, mtime: header.mtime });
          break;
        case 'file': {
          const fd = openSync(dst, 'wx', 0o600);
          try {
            for await (const chunk of body) {
              let off = 0;
              while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
              stats.bytes += chunk.length;
            }
            if (this.owners) fchownSync(fd, header.uid, header.gid);
            fchmodSync(fd, header.mode);
            futimesSync(fd, header.mtime, header.mtime);
          } finally {
            closeSync(fd);
          }
          stats.files++;
          break;
        }
        case 'symlink':
          symlinkSync(header.linkpath, dst);
          if (this.owners) lchownSync(dst, header.uid, header.gid);
          lutimesSync(dst, header.mtime, header.mtime);
          break;
        case 'link': {
          if (this.only && !isUnder(splitEntryPath(header.linkpath), this.only)) {
            created.delete(dst);
            stats.skipped.push({
              path: header.path,
              reason: `hard link to ${header.linkpath}, outside ${this.opts.only}`,
            });
            break;
          }
          const target = await this.resolveLinkTarget(header);
          linkSync(target, dst);
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
          this.applyOwnerMode(dst, header);
          break;
        case 'fifo':
          await runCommand('mkfifo', [dst]);
          this.applyOwnerMode(dst, header);
          break;
        default:
          created.delete(dst);
          stats.skipped.push({ path: header.path, reason: `unsupported entry type "${header.flag}"` });
      }
    }
    // Directory times last: creating their children changed them.
    for (const d of dirTimes.reverse()) {
      try {
        utimesSync(d.path, d.mtime, d.mtime);
      } catch {
        /* removed by a later whiteout of this layer */
      }
    }
    Object.assign(stats, layer.verify());
    this.log.debug({ entries: stats.entries, bytes: stats.bytes }, 'layer unpacked');
    return stats;
  }

  /** `only`: entries under the path, and the directories above it (symlinks there are not followed out). */
  private wanted(parts: readonly string[], type: TarHeader['type']): boolean {
    const only = this.only ?? [];
    const last = parts[parts.length - 1];
    if (last === OPAQUE) return isUnder(only, parts.slice(0, -1)) || isUnder(parts.slice(0, -1), only);
    const whiteout = last.startsWith(WHITEOUT);
    const path = whiteout ? [...parts.slice(0, -1), last.slice(WHITEOUT.length)] : parts;
    return isUnder(path, only) || (isUnder(only, path) && (type === 'directory' || whiteout));
  }

  private async resolveLinkTarget(header: TarHeader): Promise<string> {
    const parts = linkTargetParts(header);
    const dir = await this.resolveDir(parts.slice(0, -1), header.path);
    const target = join(dir, parts[parts.length - 1]);
    const st = lstatOrUndefined(target);
    if (!st)
      throw new HyprError('IMAGE_LAYER_INVALID', `hard link "${header.path}" points at missing "${header.linkpath}"`);
    if (st.isDirectory()) throw new UnsafeLayerError(header.path, 'is a hard link to a directory');
    return target;
  }

  private applyOwnerMode(path: string, h: TarHeader): void {
    if (this.owners) lchownSync(path, h.uid, h.gid);
    chmodSync(path, h.mode);
  }

  private remove(path: string): void {
    const st = lstatOrUndefined(path);
    if (!st) return;
    if (st.isDirectory() || st.isSymbolicLink()) this.dirCache.clear();
    rmSync(path, { recursive: true, force: true });
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
