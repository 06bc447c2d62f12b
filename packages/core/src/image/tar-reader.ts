import { HyprError } from '../errors.js';

/** Entry kinds as named by the tar typeflag. */
export type TarEntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo' | 'other';

export interface TarHeader {
  path: string;
  type: TarEntryType;
  /** The raw typeflag character. */
  flag: string;
  mode: number;
  uid: number;
  gid: number;
  sizeBytes: number;
  /** Seconds since the epoch (may be fractional from PAX). */
  mtime: number;
  linkpath: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes from PAX `SCHILY.xattr.*` records. */
  xattrs: Record<string, Buffer>;
}

export interface TarEntry {
  header: TarHeader;
  /** The body, read once. When not consumed, the next iteration skips it. */
  body: AsyncIterable<Buffer>;
}

function tarError(why: string): HyprError {
  return new HyprError('IMAGE_LAYER_INVALID', `layer is not a valid tar archive: ${why}`);
}

/** Reads exact byte counts from an async chunk source. */
class ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private done = false;
  private readonly it: AsyncIterator<Uint8Array>;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async fill(n: number): Promise<void> {
    while (this.buffered < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else if (r.value.length) {
        const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.length);
        this.chunks.push(b);
        this.buffered += b.length;
      }
    }
  }

  /** Exactly n bytes, or fewer only at the end of input. */
  async read(n: number): Promise<Buffer> {
    await this.fill(n);
    return this.take(Math.min(n, this.buffered));
  }

  /** Up to `max` bytes (at least 1 unless at end): whatever is buffered, without copying when possible. */
  async readSome(max: number): Promise<Buffer> {
    if (this.buffered === 0) await this.fill(1);
    if (this.buffered === 0) return Buffer.alloc(0);
    const first = this.chunks[0];
    if (first.length <= max) {
      this.chunks.shift();
      this.buffered -= first.length;
      return first;
    }
    this.chunks[0] = first.subarray(max);
    this.buffered -= max;
    return first.subarray(0, max);
  }

  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0];
    if (first.length >= n) {
      this.buffered -= n;
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0];
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= n;
    return out;
  }

  async skip(n: number): Promise<void> {
    while (n > 0) {
      const b = await this.readSome(n);
      if (b.length === 0) throw tarError('unexpected end of archive');
      n -= b.length;
    }
  }

  async close(): Promise<void> {
    await this.it.return?.();
  }
}

function cstring(b: Buffer, start: number, len: number): string {
  const s = b.subarray(start, start + len);
  const z = s.indexOf(0);
  return s.subarray(0, z < 0 ? len : z).toString('utf8');
}

function number(b: Buffer, start: number, len: number): number {
  const f = b.subarray(start, start + len);
  if (f[0] & 0x80) {
    // base-256 (GNU): big-endian two's complement, high bit set
    let v = f[0] & 0x7f;
    for (let i = 1; i < f.length; i++) v = v * 256 + f[i];
    return v;
  }
  const s = cstring(b, start, len).trim();
  if (s === '') return 0;
  const v = Number.parseInt(s, 8);
  if (!Number.isFinite(v)) throw tarError(`bad number field "${s}"`);
  return v;
}

const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'link',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'directory',
  '6': 'fifo',
};

function parsePax(data: Buffer): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  let off = 0;
  while (off < data.length) {
    const sp = data.indexOf(0x20, off);
    if (sp < 0) break;
    const len = Number.parseInt(data.subarray(off, sp).toString('ascii'), 10);
    if (!Number.isFinite(len) || len <= 0 || off + len > data.length) throw tarError('bad PAX record');
    const rec = data.subarray(sp + 1, off + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq > 0) out[rec.subarray(0, eq).toString('utf8')] = rec.subarray(eq + 1);
    off += len;
  }
  return out;
}

/**
 * Reads a tar stream (ustar, GNU long names, PAX) entry by entry. Consumers must finish with an
 * entry's body (or ignore it) before asking for the next entry.
 */
export async function* readTar(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const r = new ByteReader(source);
  let globalPax: Record<string, Buffer> = {};
  let pax: Record<string, Buffer> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  try {
    for (;;) {
      const block = await r.read(512);
      if (block.length === 0) return; // tolerated: archive without end blocks
      if (block.length < 512) throw tarError('truncated header');
      if (block.every((x) => x === 0)) return;
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : block[i];
      const stored = number(block, 148, 8);
      if (stored !== sum) throw tarError('header checksum mismatch');
      const flag = String.fromCharCode(block[156]);
      let size = number(block, 124, 12);
      const padded = Math.ceil(size / 512) * 512;
      if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
        if (size > 16 << 20) throw tarError('extended header larger than 16 MiB');
        const data = await r.read(size);
        if (data.length < size) throw tarError('truncated extended header');
        await r.skip(padded - size);
        if (flag === 'x') pax = { ...pax, ...parsePax(data) };
        else if (flag === 'g') globalPax = { ...globalPax, ...parsePax(data) };
        else if (flag === 'L') longName = cstring(data, 0, data.length);
        else longLink = cstring(data, 0, data.length);
        continue;
      }
      const ext = { ...globalPax, ...pax };
      const magic = block.subarray(257, 263).toString('latin1');
      const prefix = magic === 'ustar\0' ? cstring(block, 345, 155) : '';
      let path = cstring(block, 0, 100);
      if (prefix) path = `${prefix}/${path}`;
      if (longName !== undefined) path = longName;
      if (ext.path) path = ext.path.toString('utf8');
      let linkpath = longLink ?? cstring(block, 157, 100);
      if (ext.linkpath) linkpath = ext.linkpath.toString('utf8');
      if (ext.size) size = Number(ext.size.toString('ascii'));
      const xattrs: Record<string, Buffer> = {};
      for (const [k, v] of Object.entries(ext)) {
        if (k.startsWith('SCHILY.xattr.')) xattrs[k.slice('SCHILY.xattr.'.length)] = v;
      }
      const header: TarHeader = {
        path,
        type: TYPES[flag] ?? 'other',
        flag,
        mode: number(block, 100, 8) & 0o7777,
        uid: ext.uid ? Number(ext.uid.toString()) : number(block, 108, 8),
        gid: ext.gid ? Number(ext.gid.toString()) : number(block, 116, 8),
        sizeBytes: size,
        mtime: ext.mtime ? Number(ext.mtime.toString()) : number(block, 136, 12),
        linkpath,
        uname: ext.uname ? ext.uname.toString('utf8') : cstring(block, 265, 32),
        gname: ext.gname ? ext.gname.toString('utf8') : cstring(block, 297, 32),
        devmajor: number(block, 329, 8),
        devminor: number(block, 337, 8),
        xattrs,
      };
      pax = {};
      longName = undefined;
      longLink = undefined;
      // Hard links, symlinks and directories carry no body even if a size is set (some writers do).
      const bodySize = header.type === 'file' || header.type === 'other' ? size : 0;
      const skipAfter =
        header.type === 'file' || header.type === 'other'
          ? Math.ceil(size / 512) * 512 - size
          : Math.ceil(size / 512) * 512;
      let remaining = bodySize;
      let consumed = false;
      const body: AsyncIterable<Buffer> = {
        async *[Symbol.asyncIterator]() {
          if (consumed) throw tarError('entry body read twice');
          consumed = true;
          while (remaining > 0) {
            const b = await r.readSome(Math.min(remaining, 1 << 20));
            if (b.length === 0) throw tarError(`truncated body of ${header.path}`);
            remaining -= b.length;
            yield b;
          }
        },
      };
      yield { header, body };
      if (remaining > 0) await r.skip(remaining);
      remaining = 0;
      await r.skip(skipAfter);
    }
  } finally {
    await r.close();
  }
}
