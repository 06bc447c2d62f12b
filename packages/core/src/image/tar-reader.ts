import { Parser, type ReadEntry } from 'tar';
import { HyprError } from '../errors.js';

// Tar is read by node-tar's Parser (ustar, GNU long names, PAX, checksums). This module turns its
// push events into a pull iterator: input is read only when the consumer needs the next entry or
// the next piece of a body, so a layer streams through without being held in memory. Everything
// about what an entry may *do* (paths, links, whiteouts) is decided by the callers (unpack.ts).

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
}

export interface TarEntry {
  header: TarHeader;
  /** The body, read once. When not consumed, the next iteration skips it. */
  body: AsyncIterable<Buffer>;
}

/** PAX and GNU long-name records larger than this are refused (they are held in memory). */
const MAX_META_BYTES = 16 << 20;

const KINDS: Record<string, TarEntryType> = {
  File: 'file',
  OldFile: 'file',
  ContiguousFile: 'file',
  Link: 'link',
  SymbolicLink: 'symlink',
  CharacterDevice: 'char',
  BlockDevice: 'block',
  Directory: 'directory',
  GNUDumpDir: 'directory',
  FIFO: 'fifo',
};

function tarError(why: string, cause?: unknown): HyprError {
  return new HyprError('IMAGE_LAYER_INVALID', `layer is not a valid tar archive: ${why}`, undefined, { cause });
}

function toHeader(e: ReadEntry): TarHeader {
  const h = e.header;
  return {
    path: e.path,
    type: KINDS[e.type] ?? 'other',
    flag: h.typeKey === 'Unsupported' ? '?' : h.typeKey,
    mode: e.mode ?? 0,
    uid: e.uid ?? 0,
    gid: e.gid ?? 0,
    sizeBytes: e.size,
    mtime: e.mtime ? e.mtime.getTime() / 1000 : 0,
    linkpath: e.linkpath ?? '',
    uname: e.uname ?? '',
    gname: e.gname ?? '',
    devmajor: h.devmaj ?? 0,
    devminor: h.devmin ?? 0,
  };
}

/**
 * Reads a tar stream entry by entry. Consumers must finish with an entry's body (or ignore it)
 * before asking for the next entry. The whole input is read, trailing blocks included, so a hash
 * taken on the way (a layer's diff id) covers every byte.
 */
export async function* readTar(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const input = source[Symbol.asyncIterator]();
  // strict: a bad checksum, a truncated body or a header that is not one is an error, not a warning.
  const parser = new Parser({ strict: true, maxMetaEntrySize: MAX_META_BYTES });
  const queue: ReadEntry[] = [];
  let failure: HyprError | undefined;
  let sawInput = false;
  let inputDone = false;
  parser.on('entry', (e: ReadEntry) => queue.push(e));
  parser.on('ignoredEntry', (e: ReadEntry) => {
    if (e.meta) failure ??= tarError(`an extended header of ${e.size} bytes is larger than ${MAX_META_BYTES}`);
    else queue.push(e); // an entry type node-tar does not know: the caller decides (unpack skips it)
  });
  parser.on('error', (e: Error) => {
    failure ??= tarError(e.message.replace(/^TAR_[A-Z_]+: /, ''), e);
  });

  /** Feeds the parser one more chunk of input; false when the input is exhausted. */
  const pump = async (): Promise<boolean> => {
    if (inputDone) return false;
    const r = await input.next();
    if (r.done) {
      inputDone = true;
      if (sawInput) parser.end(); // no input at all is an empty archive, not a broken one
    } else if (r.value.length > 0) {
      sawInput = true;
      parser.write(
        Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.length),
      );
    }
    if (failure) throw failure;
    return !inputDone;
  };

  const bodyOf = (e: ReadEntry): AsyncIterable<Buffer> => {
    let consumed = false;
    return {
      async *[Symbol.asyncIterator]() {
        if (consumed) throw tarError('entry body read twice');
        consumed = true;
        for (;;) {
          const chunk = e.read() as Buffer | null;
          if (chunk?.length) yield chunk;
          else if (e.emittedEnd) return;
          else if (!(await pump())) {
            if (e.emittedEnd) return;
            throw tarError(`truncated body of ${e.path}`);
          }
        }
      },
    };
  };

  try {
    for (;;) {
      const e = queue.shift();
      if (e) {
        yield { header: toHeader(e), body: bodyOf(e) };
        e.resume(); // whatever the consumer left of the body is discarded
        while (!e.emittedEnd) if (!(await pump()) && !e.emittedEnd) throw tarError(`truncated body of ${e.path}`);
      } else if (!(await pump()) && queue.length === 0) {
        return;
      }
    }
  } finally {
    parser.removeAllListeners('entry');
    await input.return?.();
  }
}
