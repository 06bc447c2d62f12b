import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, readFile, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { HyprError } from '../errors.js';

const DIGEST = /^sha256:([a-f0-9]{64})$/;

/** Checks a digest and returns its hex part. Only sha256 is stored. */
export function digestHex(digest: string): string {
  const m = DIGEST.exec(digest);
  if (!m) throw new HyprError('IMAGE_DIGEST_INVALID', `"${digest}" is not a sha256 digest`);
  return m[1];
}

export function sha256Digest(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export class BlobDigestMismatchError extends HyprError {
  constructor(
    readonly expected: string,
    readonly actual: string,
    readonly source?: string,
  ) {
    super(
      'IMAGE_BLOB_DIGEST_MISMATCH',
      `blob ${expected}${source ? ` from ${source}` : ''} has digest ${actual}: it was corrupted or tampered with`,
      'the blob was discarded; retry, and if it persists the registry holds bad data',
    );
  }
}

/** How many bytes a BlobWriter gathers before it writes them (a socket hands over 16–64 KiB at a time). */
const WRITE_BATCH_BYTES = 1 << 20;

export interface BlobExpectation {
  digest?: string;
  sizeBytes?: number;
}

/**
 * One blob being written. Bytes are hashed as they arrive; `commit` checks size and digest, fsyncs
 * and renames into place, so a crash at any point leaves either the whole verified blob or nothing.
 */
export class BlobWriter {
  private readonly hash = createHash('sha256');
  private written = 0;
  private done = false;
  /** Chunks hashed but not yet in the file: written in batches, one system call instead of dozens. */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly store: BlobStore,
    private readonly fh: FileHandle,
    readonly tempPath: string,
    private readonly expected: BlobExpectation,
    private readonly source?: string,
  ) {}

  get bytesWritten(): number {
    return this.written;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.expected.sizeBytes !== undefined && this.written + chunk.length > this.expected.sizeBytes) {
      throw new HyprError(
        'IMAGE_BLOB_SIZE_MISMATCH',
        `blob ${this.expected.digest ?? ''} is larger than its declared ${this.expected.sizeBytes} bytes`,
      );
    }
    this.hash.update(chunk);
    this.written += chunk.length;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= WRITE_BATCH_BYTES) await this.flush();
  }

  /** Writes the pending chunks to the file, in order. */
  private async flush(): Promise<void> {
    if (!this.pendingBytes) return;
    const chunks = this.pending;
    const total = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    const { bytesWritten } = await this.fh.writev(chunks);
    if (bytesWritten === total) return;
    const rest = Buffer.concat(chunks).subarray(bytesWritten); // a short write: rare, finish it plainly
    for (let off = 0; off < rest.length; ) off += (await this.fh.write(rest, off, rest.length - off)).bytesWritten;
  }

  /** Verifies, fsyncs and moves the blob into place; returns its digest. Aborts (and throws) on mismatch. */
  async commit(): Promise<{ digest: string; sizeBytes: number }> {
    const digest = `sha256:${this.hash.digest('hex')}`;
    try {
      if (this.expected.sizeBytes !== undefined && this.written !== this.expected.sizeBytes) {
        throw new HyprError(
          'IMAGE_BLOB_SIZE_MISMATCH',
          `blob ${this.expected.digest ?? digest} has ${this.written} bytes, expected ${this.expected.sizeBytes}`,
        );
      }
      if (this.expected.digest && this.expected.digest !== digest) {
        throw new BlobDigestMismatchError(this.expected.digest, digest, this.source);
      }
      await this.flush();
      await this.fh.sync();
      await this.fh.close();
      this.done = true;
      await rename(this.tempPath, this.store.blobPath(digest));
      await this.store.syncBlobDir();
      return { digest, sizeBytes: this.written };
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  /** Discards the temp file. Idempotent. */
  async abort(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.fh.close().catch(() => {});
    }
    await unlink(this.tempPath).catch(() => {});
  }
}

/**
 * The content-addressed blob store: `<root>/blobs/sha256/<hex>`, written through `<root>/tmp`.
 * Blobs are immutable; their name is their digest.
 */
export class BlobStore {
  readonly blobsDir: string;
  readonly tmpDir: string;

  constructor(readonly root: string) {
    this.blobsDir = join(root, 'blobs', 'sha256');
    this.tmpDir = join(root, 'tmp');
  }

  async init(): Promise<this> {
    await mkdir(this.blobsDir, { recursive: true });
    await mkdir(this.tmpDir, { recursive: true });
    return this;
  }

  blobPath(digest: string): string {
    return join(this.blobsDir, digestHex(digest));
  }

  async hasBlob(digest: string): Promise<boolean> {
    return (await this.blobSize(digest)) !== undefined;
  }

  /** The size of a stored blob, or undefined. */
  async blobSize(digest: string): Promise<number | undefined> {
    try {
      return (await stat(this.blobPath(digest))).size;
    } catch {
      return undefined;
    }
  }

  /** Reads a whole (small) blob and checks its digest. */
  async readBlob(digest: string): Promise<Buffer> {
    let data: Buffer;
    try {
      data = await readFile(this.blobPath(digest));
    } catch (e) {
      throw new HyprError('IMAGE_BLOB_NOT_FOUND', `blob ${digest} is not in the store`, 'pull the image again', {
        cause: e,
      });
    }
    const actual = sha256Digest(data);
    if (actual !== digest) throw new BlobDigestMismatchError(digest, actual, 'the local store');
    return data;
  }

  openBlob(digest: string): Readable {
    return createReadStream(this.blobPath(digest), { highWaterMark: 1 << 20 });
  }

  async createWriter(expected: BlobExpectation = {}, source?: string): Promise<BlobWriter> {
    const name = `${expected.digest ? digestHex(expected.digest).slice(0, 16) : 'blob'}-${randomBytes(6).toString('hex')}.part`;
    const tempPath = join(this.tmpDir, name);
    const fh = await open(tempPath, 'wx', 0o644);
    return new BlobWriter(this, fh, tempPath, expected, source);
  }

  /** Writes a blob from memory; verifies it against `expected` when given. */
  async writeBlob(
    data: Uint8Array | string,
    expected: BlobExpectation = {},
  ): Promise<{ digest: string; sizeBytes: number }> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    const digest = sha256Digest(bytes);
    if (await this.hasBlob(digest)) {
      if (expected.digest && expected.digest !== digest) throw new BlobDigestMismatchError(expected.digest, digest);
      return { digest, sizeBytes: bytes.length };
    }
    const w = await this.createWriter(expected);
    try {
      await w.write(bytes);
    } catch (e) {
      await w.abort();
      throw e;
    }
    return w.commit();
  }

  /** Streams a blob into the store, verifying digest and size while it streams. */
  async ingest(
    source: AsyncIterable<Uint8Array>,
    expected: BlobExpectation = {},
    signal?: AbortSignal,
  ): Promise<{ digest: string; sizeBytes: number }> {
    const w = await this.createWriter(expected);
    try {
      for await (const chunk of source) {
        signal?.throwIfAborted();
        await w.write(chunk);
      }
    } catch (e) {
      await w.abort();
      throw e;
    }
    return w.commit();
  }

  async deleteBlob(digest: string): Promise<void> {
    await rm(this.blobPath(digest), { force: true });
  }

  async listBlobs(): Promise<string[]> {
    const names = await readdir(this.blobsDir).catch(() => [] as string[]);
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }

  /**
   * Removes every blob not in `keep`, and temp files older than `tempMaxAgeMs` (left by a killed
   * pull). Returns the digests removed and the bytes freed.
   */
  async collectGarbage(
    keep: ReadonlySet<string>,
    opts: { tempMaxAgeMs?: number } = {},
  ): Promise<{ removed: string[]; freedBytes: number }> {
    const removed: string[] = [];
    let freedBytes = 0;
    for (const digest of await this.listBlobs()) {
      if (keep.has(digest)) continue;
      freedBytes += (await this.blobSize(digest)) ?? 0;
      await this.deleteBlob(digest);
      removed.push(digest);
    }
    const maxAge = opts.tempMaxAgeMs ?? 60 * 60 * 1000;
    for (const name of await readdir(this.tmpDir).catch(() => [] as string[])) {
      const p = join(this.tmpDir, name);
      const st = await stat(p).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > maxAge) {
        freedBytes += st.size;
        await rm(p, { force: true, recursive: true });
      }
    }
    return { removed, freedBytes };
  }

  /** fsyncs the blob directory so a rename survives a power cut. */
  async syncBlobDir(): Promise<void> {
    const fh = await open(this.blobsDir, 'r');
    try {
      await fh.sync();
    } catch {
      /* some filesystems refuse fsync on a directory; the rename is still atomic */
    } finally {
      await fh.close();
    }
  }
}
