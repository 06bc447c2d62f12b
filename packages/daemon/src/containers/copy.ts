/**
 * docker cp, the daemon's half: what a path in the container is, a tar of it, and a tar unpacked
 * into a directory, all through Kestrel in the running VM. The client applies docker's path rules
 * (DEST directory or file, a trailing `/.`) with what statPath says, and names the entries.
 */
import { posix } from 'node:path';
import { HyprError, type TarHeader } from '@hypr/core';
import { type Exec, firstTarHeader, guestTarCreate, guestTarExtract } from './guest-tar.js';
import type { RunningContainers } from './running.js';
import type { ContainerStore } from './store.js';
import type { ContainerRow } from './types.js';

export interface CopyDeps {
  store: ContainerStore;
  running: RunningContainers;
  runtimeName: string;
}

/** docker's PathStat. */
export interface PathStat {
  name: string;
  /** Unix mode with the type bits. */
  mode: number;
  sizeBytes: number;
  linkTarget: string;
  isDir: boolean;
}

/** How many links -L follows before it gives up (as the kernel's ELOOP). */
const MAX_LINKS = 40;

const TYPE_BITS: Record<string, number> = {
  directory: 0o040000,
  symlink: 0o120000,
  char: 0o020000,
  block: 0o060000,
  fifo: 0o010000,
};

/** The exec of a running container, or a HyprError saying why there is none. */
export function liveExec(d: CopyDeps, text: string, what: string): { row: ContainerRow; exec: Exec } {
  const row = d.store.resolve(text);
  const live = d.running.get(row.id);
  if (live && row.state === 'paused')
    throw new HyprError(
      'CONTAINER_IS_PAUSED',
      `Container ${row.id} is paused, unpause the container before ${what}`,
      `hypr unpause ${row.name}`,
    );
  if (!live || row.state !== 'running')
    throw new HyprError(
      'CONTAINER_NOT_RUNNING',
      `Container ${row.name} is not running: ${what} needs a running container`,
      `start it first: hypr start ${row.name}`,
    );
  const handle = live.handle;
  if (!handle.exec)
    throw new HyprError('EXEC_NOT_SUPPORTED', `${what} is not supported by the ${d.runtimeName} runtime`);
  return { row, exec: (o) => handle.exec!(o) };
}

function absolute(path: string): string {
  return posix.normalize(path.startsWith('/') ? path : `/${path}`);
}

function statOf(h: TarHeader, name: string): PathStat {
  return {
    name,
    mode: (h.mode & 0o7777) | (TYPE_BITS[h.type] ?? 0o100000),
    sizeBytes: h.sizeBytes,
    linkTarget: h.type === 'symlink' ? h.linkpath : '',
    isDir: h.type === 'directory',
  };
}

async function statIn(exec: Exec, path: string, container: string): Promise<PathStat> {
  const tar = guestTarCreate(exec, path, container);
  try {
    const h = await firstTarHeader(tar.chunks);
    if (!h)
      throw new HyprError('CONTAINER_PATH_NOT_FOUND', `Could not find the file ${path} in container ${container}`);
    return statOf(h, path === '/' ? '/' : posix.basename(path));
  } finally {
    tar.cancel();
  }
}

/** What PATH is in the container; undefined when nothing is there. */
export async function statPath(d: CopyDeps, text: string, path: string): Promise<PathStat | undefined> {
  const { row, exec } = liveExec(d, text, 'cp');
  try {
    // A link to a directory is that directory for cp's rules, as the guest's chdir sees it.
    const { stat } = await followLinks(exec, absolute(path), row.name);
    return { ...stat, name: posix.basename(absolute(path)) || '/' };
  } catch (e) {
    if (e instanceof HyprError && e.code === 'CONTAINER_PATH_NOT_FOUND') return undefined;
    throw e;
  }
}

/** PATH with its symbolic links followed (-L), up to MAX_LINKS of them. */
async function followLinks(exec: Exec, path: string, container: string): Promise<{ path: string; stat: PathStat }> {
  let at = path;
  for (let i = 0; i < MAX_LINKS; i++) {
    const stat = await statIn(exec, at, container);
    if (!stat.linkTarget) return { path: at, stat };
    at = absolute(stat.linkTarget.startsWith('/') ? stat.linkTarget : posix.join(posix.dirname(at), stat.linkTarget));
  }
  throw new HyprError('CONTAINER_COPY_FAILED', `${path} in container ${container}: too many levels of symbolic links`);
}

/** docker cp CONTAINER:PATH: PATH's stat, then a tar of it (entries named from its last component). */
export async function copyFromContainer(
  d: CopyDeps,
  text: string,
  path: string,
  followLink: boolean,
): Promise<{ stat: PathStat; chunks: AsyncGenerator<Buffer>; cancel(): void }> {
  const { row, exec } = liveExec(d, text, 'cp');
  const wanted = absolute(path);
  const { path: source, stat } = followLink
    ? await followLinks(exec, wanted, row.name)
    : { path: wanted, stat: await statIn(exec, wanted, row.name) };
  const tar = guestTarCreate(exec, source, row.name);
  return { stat, chunks: tar.chunks, cancel: tar.cancel };
}

/** docker cp … CONTAINER:DIR: unpacks the tar into DIR (an existing directory of the container). */
export async function copyToContainer(
  d: CopyDeps,
  text: string,
  dir: string,
  chunks: AsyncIterable<Uint8Array>,
): Promise<void> {
  const { row, exec } = liveExec(d, text, 'cp');
  const target = absolute(dir);
  const stat = await statIn(exec, target, row.name).catch((e) => {
    if (e instanceof HyprError && e.code === 'CONTAINER_PATH_NOT_FOUND')
      throw new HyprError(
        'CONTAINER_PATH_NOT_FOUND',
        `Could not find the file ${target} in container ${row.name}`,
        'the destination directory must exist in the container',
      );
    throw e;
  });
  if (!stat.isDir && !stat.linkTarget)
    throw new HyprError(
      'CONTAINER_COPY_FAILED',
      `extraction point is not a directory: ${target} in container ${row.name}`,
      'give a directory in the container as the destination of a tar stream',
    );
  await guestTarExtract(exec, target, chunks, row.name);
}
