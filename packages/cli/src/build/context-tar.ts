/**
 * The build context as the CLI sends it: the files of the context directory that .dockerignore
 * keeps (the same walk as core's readBuildContext), packed as a tar stream and cut into chunks of
 * at most 64 KiB. File data is read as it is sent, so a large context never sits in memory.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createDockerignoreMatcher } from '@hypr/core/dockerfile';
import { create } from 'tar';

export const CHUNK_BYTES = 64 * 1024;

/** Paths of the context (slash-separated, relative), parents before children, sorted. */
export async function listContext(dir: string, dockerignore: string): Promise<string[]> {
  const ignore = dockerignore ? createDockerignoreMatcher(dockerignore) : undefined;
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(join(dir, rel))).sort();
    for (const name of names) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const ignored = ignore?.ignores(path) ?? false;
      const st = await lstat(join(dir, path));
      if (st.isDirectory()) {
        if (ignored && !ignore?.mayReinclude(path)) continue;
        if (!ignored) out.push(path);
        await walk(path);
      } else if (!ignored && (st.isFile() || st.isSymbolicLink())) out.push(path);
    }
  };
  await walk('');
  return out;
}

/** Re-cuts a byte stream into chunks of `size` bytes (the last one shorter). */
export async function* rechunk(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  size = CHUNK_BYTES,
): AsyncGenerator<Uint8Array> {
  let parts: Uint8Array[] = [];
  let held = 0;
  for await (const piece of source) {
    let data = piece;
    while (data.byteLength > 0) {
      const take = Math.min(size - held, data.byteLength);
      parts.push(data.subarray(0, take));
      held += take;
      data = data.subarray(take);
      if (held === size) {
        yield Buffer.concat(parts);
        parts = [];
        held = 0;
      }
    }
  }
  if (held > 0) yield Buffer.concat(parts);
}

/** The context directory as tar chunks: only `paths`, symlinks as links, no owner names or ids. */
export function packContext(dir: string, paths: readonly string[]): AsyncIterable<Uint8Array> {
  if (paths.length === 0) return rechunk([Buffer.alloc(1024)]);
  const pack = create({ cwd: dir, portable: true, noDirRecurse: true, maxReadSize: CHUNK_BYTES }, [...paths]);
  return rechunk(pack as unknown as AsyncIterable<Uint8Array>);
}
