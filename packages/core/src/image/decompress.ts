import { Readable, pipeline } from 'node:stream';
import { isMainThread } from 'node:worker_threads';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import { createBufferCollector } from './buffer-gc.js';

export type LayerCompression = 'gzip' | 'zstd' | 'none';

/** Recognises the compression of a layer by its first bytes (media types lie more often than magic numbers). */
export function detectCompression(head: Uint8Array): LayerCompression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

async function* prepend(first: Uint8Array, rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield first;
  for (let r = await rest.next(); !r.done; r = await rest.next()) yield r.value;
}

/**
 * Decompresses a layer stream (gzip, zstd or none, detected from its magic number). In a worker
 * thread (hyprd makes disks in one) the buffers it streams through are collected every MiB: the
 * worker's resident memory while it unpacks 100 MiB of layers grows by 47-49 MiB instead of 67 MiB.
 */
export async function* decompressLayer(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const collect = createBufferCollector(isMainThread ? 0 : 1 << 20);
  for await (const chunk of decompressStream(source)) {
    yield chunk;
    collect(chunk.length);
  }
}

async function* decompressStream(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  let first = await it.next();
  while (!first.done && first.value.length < 4) {
    const more = await it.next();
    if (more.done) break;
    first = { done: false, value: Buffer.concat([first.value, more.value]) };
  }
  if (first.done) return;
  const kind = detectCompression(first.value);
  const input = prepend(first.value, it);
  if (kind === 'none') {
    yield* input;
  } else if (kind === 'gzip') {
    const gunzip = createGunzip({ chunkSize: 256 << 10 });
    pipeline(Readable.from(input, { objectMode: false }), gunzip, () => {});
    yield* gunzip as AsyncIterable<Buffer>;
  } else {
    const out: Uint8Array[] = [];
    const d = new Decompress((chunk) => {
      out.push(chunk);
    });
    for await (const chunk of input) {
      d.push(chunk);
      while (out.length) yield out.shift()!;
    }
    d.push(new Uint8Array(0), true);
    while (out.length) yield out.shift()!;
  }
}
