/**
 * The build context as hyprd receives it: a tar stream from the CLI, unpacked into a private
 * directory. hyprd never opens a path the caller named (it runs as root, the caller may not): the
 * CLI reads the files, filters them by .dockerignore and streams them. node-tar refuses absolute
 * paths, `..` and writing through symlinks; the chunks go to disk as they come, with backpressure,
 * so a large context never sits in memory.
 */
import { chmod, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { HyprError, type Logger } from '@hypr/core';
import { Unpack } from 'tar';

/**
 * Unpacks a tar stream (plain or gzip) into `dir`, reporting the bytes received. Modes are set
 * from the tar after unpacking (node-tar leaves them to the process umask), so a 0666 file stays
 * 0666, as the cache keys and COPY expect. An empty stream, or a tar with no entries, is an empty
 * context.
 */
export async function receiveContext(
  chunks: AsyncIterable<Uint8Array>,
  dir: string,
  opts: { onBytes?: (receivedBytes: number) => void; logger?: Logger; signal?: AbortSignal } = {},
): Promise<number> {
  const modes: [string, number][] = [];
  const unpack = new Unpack({
    cwd: dir,
    preserveOwner: false,
    onwarn: (code, message) => opts.logger?.warn({ code, message }, 'context entry skipped'),
    onReadEntry: (e) => {
      if ((e.type === 'File' || e.type === 'Directory') && typeof e.mode === 'number')
        modes.push([e.path, e.mode & 0o7777]);
    },
  });
  let failed: Error | undefined;
  const ended = new Promise<void>((resolve, reject) => {
    unpack.on('error', (e: Error) => {
      failed = e;
      reject(e);
    });
    unpack.on('close', () => resolve());
  });
  ended.catch(() => {});
  let received = 0;
  let allZero = true;
  try {
    for await (const chunk of chunks) {
      opts.signal?.throwIfAborted();
      if (failed) break;
      received += chunk.byteLength;
      opts.onBytes?.(received);
      if (allZero && chunk.some((b) => b !== 0)) allZero = false;
      if (!unpack.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)))
        await new Promise<void>((resolve) => unpack.once('drain', () => resolve()));
    }
    unpack.end();
    await ended;
  } catch (e) {
    if (!(allZero && modes.length === 0 && (e as { code?: string }).code === 'TAR_BAD_ARCHIVE'))
      throw new HyprError(
        'BUILD_CONTEXT_INVALID',
        `the build context is not a readable tar stream: ${(e as Error).message}`,
        undefined,
        { cause: e },
      );
  }
  const root = await realpath(dir);
  for (const [path, mode] of modes) {
    // Only a path with no symlink in it: chmod follows links, and a later entry may have made one.
    const abs = resolve(root, path);
    const real = await realpath(abs).catch(() => undefined);
    if (real === abs && abs.startsWith(`${root}${sep}`)) await chmod(abs, mode);
  }
  return received;
}

/**
 * Reads a file of the unpacked context by its name in the context, following symlinks only while
 * they stay inside it. Undefined when it does not exist.
 */
export async function readContextFile(dir: string, name: string, what: string): Promise<string | undefined> {
  let real: string;
  try {
    real = await realpath(join(dir, name));
  } catch {
    return undefined;
  }
  const root = await realpath(dir);
  const rel = relative(root, real);
  if (rel === '..' || rel.startsWith(`..${sep}`) || rel.startsWith(sep))
    throw new HyprError('BUILD_CONTEXT_INVALID', `${what} ${name} points outside the build context`);
  if (!(await stat(real)).isFile()) throw new HyprError('BUILD_CONTEXT_INVALID', `${what} ${name} is not a file`);
  return readFile(real, 'utf8');
}
