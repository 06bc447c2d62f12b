import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { createGzip } from 'node:zlib';
import type { ImageStore } from '../image/image-store.js';
import { MEDIA_TYPES } from '../image/manifest.js';
import { readTar } from '../image/tar-reader.js';
import { TAR_END, type TarWriteEntry, tarHeader, tarPadding } from '../image/tar-writer.js';

/**
 * Layers of a build: written as plain tar files, then stored gzip-compressed in the blob store
 * with their diff id (the sha256 of the uncompressed tar).
 */

/** A layer as an image manifest and config name it. */
export interface BuiltLayer {
  /** Digest of the gzip blob. */
  digest: string;
  /** Digest of the uncompressed tar (rootfs.diff_ids). */
  diffId: string;
  sizeBytes: number;
  mediaType: string;
}

/** An uncompressed tar written entry by entry to a file. Entries are written in the order given. */
export class LayerTarWriter {
  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
  ) {}
  entries = 0;

  static async create(path: string): Promise<LayerTarWriter> {
    return new LayerTarWriter(path, await open(path, 'wx', 0o600));
  }

  private async put(buf: Buffer): Promise<void> {
    let off = 0;
    while (off < buf.length) off += (await this.fh.write(buf, off, buf.length - off)).bytesWritten;
  }

  /** Writes one entry; `data` is a buffer or a file to stream (its size must be `sizeBytes`). */
  async add(entry: TarWriteEntry, data?: Buffer | { file: string }): Promise<void> {
    this.entries++;
    if (entry.type !== 'file' || data === undefined) {
      await this.put(tarHeader({ ...entry, sizeBytes: 0 }));
      return;
    }
    if (Buffer.isBuffer(data)) {
      await this.put(tarHeader({ ...entry, sizeBytes: data.length }));
      await this.put(data);
      await this.put(tarPadding(data.length));
      return;
    }
    const size = entry.sizeBytes ?? 0;
    await this.put(tarHeader({ ...entry, sizeBytes: size }));
    let written = 0;
    for await (const chunk of createReadStream(data.file, { highWaterMark: 1 << 20 })) {
      const b = chunk as Buffer;
      const take = Math.min(b.length, size - written);
      if (take > 0) await this.put(b.subarray(0, take));
      written += take;
    }
    // The file shrank while it was read: pad with zeros so the archive stays well formed.
    if (written < size) await this.put(Buffer.alloc(size - written));
    await this.put(tarPadding(size));
  }

  async close(): Promise<void> {
    await this.put(TAR_END);
    await this.fh.close();
  }

  async abort(): Promise<void> {
    await this.fh.close().catch(() => {});
  }
}

/** True when a layer tar holds nothing but (at most) its root directory. */
export async function isEmptyLayerTar(tarPath: string): Promise<boolean> {
  for await (const { header } of readTar(createReadStream(tarPath))) {
    const p = header.path.replace(/^\.?\/*/, '').replace(/\/+$/, '');
    if (p !== '' && p !== '.') return false;
  }
  return true;
}

/** Gzips a tar file into the blob store; returns its descriptor facts and diff id. */
export async function storeLayerTar(store: ImageStore, tarPath: string, signal?: AbortSignal): Promise<BuiltLayer> {
  const hash = createHash('sha256');
  const source = createReadStream(tarPath, { highWaterMark: 1 << 20 });
  source.on('data', (c) => hash.update(c as Buffer));
  // Level 6 and no name/mtime in the gzip header: the same tar always gives the same blob.
  const gzip = createGzip({ level: 6 });
  const compressed = source.pipe(gzip);
  source.on('error', (e) => gzip.destroy(e));
  const { digest, sizeBytes } = await store.blobs.ingest(compressed, {}, signal);
  return { digest, diffId: `sha256:${hash.digest('hex')}`, sizeBytes, mediaType: MEDIA_TYPES.ociLayerGzip };
}

/** Past this many bytes of file content a layer is not sorted in memory (only its mtimes are clamped). */
const SORT_LIMIT_BYTES = 256 << 20;

/**
 * Rewrites a layer tar for reproducibility: entries sorted by path (when the content fits in
 * memory), every mtime clamped to `sourceDateEpoch`, PAX times (atime, ctime) dropped. Owners,
 * modes, links and whiteouts are kept as they are.
 */
export async function normalizeLayerTar(inPath: string, outPath: string, sourceDateEpoch: number): Promise<number> {
  const clamp = (t: number) => Math.max(0, Math.min(Math.floor(t), sourceDateEpoch));
  const entryOf = (h: import('../image/tar-reader.js').TarHeader): TarWriteEntry => {
    const e: TarWriteEntry = {
      path: h.path.replace(/^(\.\/)+/, ''),
      type: h.type,
      mode: h.mode,
      uid: h.uid,
      gid: h.gid,
      mtime: clamp(h.mtime),
      sizeBytes: h.sizeBytes,
      linkpath: h.type === 'link' ? h.linkpath.replace(/^(\.\/)+/, '') : h.linkpath,
      devmajor: h.devmajor,
      devminor: h.devminor,
    };
    return e;
  };
  let total = 0;
  for await (const { header } of readTar(createReadStream(inPath)))
    total += header.type === 'file' ? header.sizeBytes : 0;
  const writer = await LayerTarWriter.create(outPath);
  try {
    // Each entry with its file's bytes, the root entry left out.
    const items = async function* () {
      for await (const { header, body } of readTar(createReadStream(inPath))) {
        const entry = entryOf(header);
        if (entry.path === '' || entry.path === '.' || entry.path === './') continue;
        if (header.type !== 'file') {
          yield { entry };
          continue;
        }
        const chunks: Buffer[] = [];
        for await (const c of body) chunks.push(c);
        yield { entry, data: Buffer.concat(chunks) };
      }
    };
    if (total <= SORT_LIMIT_BYTES) {
      const sorted: { entry: TarWriteEntry; data?: Buffer }[] = [];
      for await (const it of items()) sorted.push(it);
      const key = (e: TarWriteEntry) => e.path.replace(/\/+$/, '');
      sorted.sort((a, b) => (key(a.entry) < key(b.entry) ? -1 : key(a.entry) > key(b.entry) ? 1 : 0));
      for (const it of sorted) await writer.add(it.entry, it.data);
    } else {
      for await (const it of items()) await writer.add(it.entry, it.data);
    }
    await writer.close();
  } catch (e) {
    await writer.abort();
    throw e;
  }
  return writer.entries;
}
