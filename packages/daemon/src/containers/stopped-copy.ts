/**
 * docker cp out of a container that is not running: its filesystem is put together on the host
 * (the image's layers, then its writable layer read from rw.ext4, as export does) in a private work
 * directory, and PATH is taken from there. Paths resolve as they would inside the container: a
 * link is followed within the container's root, never out of it.
 */
import { lstat, mkdtemp, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { HyprError } from '@hypr/core';
import { create as createTar } from 'tar';
import { type CommitDeps, flattenContainer } from './commit.js';
import type { PathStat } from './copy.js';
import type { ContainerRow } from './types.js';

const MAX_LINKS = 40;

function notFound(path: string, row: ContainerRow): HyprError {
  return new HyprError('CONTAINER_PATH_NOT_FOUND', `Could not find the file ${path} in container ${row.name}`);
}

/**
 * PATH inside `root` with every link on the way resolved inside `root` (the last one too with
 * `followLast`): the container's view of the path, as host path components under root.
 */
async function resolveInRoot(root: string, path: string, followLast: boolean, row: ContainerRow): Promise<string[]> {
  const todo = path.split('/').filter((p) => p && p !== '.');
  const done: string[] = [];
  let links = 0;
  while (todo.length) {
    const part = todo.shift() as string;
    if (part === '..') {
      done.pop();
      continue;
    }
    const st = await lstat(join(root, ...done, part)).catch(() => undefined);
    if (!st) throw notFound(path, row);
    if (st.isSymbolicLink() && (todo.length > 0 || followLast)) {
      if (++links > MAX_LINKS) throw notFound(path, row);
      const target = await readlink(join(root, ...done, part));
      if (target.startsWith('/')) done.length = 0;
      todo.unshift(...target.split('/').filter((p) => p && p !== '.'));
      continue;
    }
    done.push(part);
  }
  return done;
}

const TYPE_BITS = { dir: 0o040000, link: 0o120000, file: 0o100000 };

/** PATH's stat and a tar of it (named from the path's last component) from a stopped container. */
export async function copyFromStopped(
  d: CommitDeps,
  row: ContainerRow,
  path: string,
  followLink: boolean,
): Promise<{ stat: PathStat; chunks: AsyncGenerator<Buffer>; cancel(): void }> {
  const work = await mkdtemp(join(tmpdir(), 'hypr-cp-'));
  const cleanup = () => rm(work, { recursive: true, force: true });
  try {
    const root = await flattenContainer(d, row, work);
    const parts = await resolveInRoot(root, path, followLink, row);
    const full = join(root, ...parts);
    const st = await lstat(full);
    const name = parts.length ? parts[parts.length - 1] : '/';
    const kind = st.isDirectory() ? TYPE_BITS.dir : st.isSymbolicLink() ? TYPE_BITS.link : TYPE_BITS.file;
    const stat: PathStat = {
      name: posix.basename(path) || name,
      mode: (st.mode & 0o7777) | kind,
      sizeBytes: st.size,
      linkTarget: st.isSymbolicLink() ? await readlink(full) : '',
      isDir: st.isDirectory(),
    };
    const cwd = parts.length ? join(root, ...parts.slice(0, -1)) : root;
    const entries = parts.length ? [name] : ['.'];
    async function* chunks(): AsyncGenerator<Buffer> {
      try {
        const pack = createTar({ cwd, portable: false, preservePaths: false }, entries);
        for await (const c of pack as AsyncIterable<Buffer>) yield c;
      } finally {
        await cleanup();
      }
    }
    return { stat, chunks: chunks(), cancel: () => void cleanup() };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
