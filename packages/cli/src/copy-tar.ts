/**
 * The host side of `hypr cp`: a local file or directory as a tar stream (its top entry named as the
 * destination wants), and a tar from the container written under a local path. docker cp's client
 * does the same: the daemon only ever sees a directory and a tar.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, lchown, link, lstat, mkdir, readdir, readlink, rm, stat, symlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { TAR_END, type TarEntryType, type TarHeader, readTar, tarHeader, tarPadding } from '@hypr/core/image';
import { CliError } from './errors.js';

export interface LocalTarOptions {
  /** -a: keep the files' uid/gid; else they become root's, as docker cp writes them. */
  keepOwner: boolean;
  /** SRC ended with `/.`: the directory's contents, not the directory itself. */
  contents: boolean;
  /** -L: follow SRC when it is a symbolic link. */
  follow: boolean;
}

function kindOf(st: Awaited<ReturnType<typeof lstat>>): TarEntryType | undefined {
  if (st.isDirectory()) return 'directory';
  if (st.isFile()) return 'file';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return undefined; // sockets are not copied
}

/** `src` as a tar: its top entry named `name` (or, with contents, its children at the top). */
export async function* localTar(src: string, name: string, o: LocalTarOptions): AsyncGenerator<Buffer> {
  const top = await (o.follow ? stat(src) : lstat(src));
  async function* entry(path: string, st: Awaited<ReturnType<typeof lstat>>, as: string): AsyncGenerator<Buffer> {
    const type = kindOf(st);
    if (!type) return;
    const common = {
      path: as,
      type,
      mode: Number(st.mode) & 0o7777,
      uid: o.keepOwner ? Number(st.uid) : 0,
      gid: o.keepOwner ? Number(st.gid) : 0,
      mtime: Math.floor(Number(st.mtimeMs) / 1000),
    };
    if (type === 'file') {
      const size = Number(st.size);
      yield tarHeader({ ...common, sizeBytes: size });
      let sent = 0;
      if (size > 0)
        for await (const c of createReadStream(path, { start: 0, end: size - 1 })) {
          sent += (c as Buffer).length;
          yield c as Buffer;
        }
      if (sent !== size) throw new CliError(`${path} changed while it was copied`, 1, undefined, 'CLI_FAILED');
      yield tarPadding(size);
    } else if (type === 'symlink') {
      yield tarHeader({ ...common, linkpath: await readlink(path) });
    } else if (type !== 'directory') {
      const rdev = Number(st.rdev);
      yield tarHeader({ ...common, devmajor: Math.floor(rdev / 256) & 0xfff, devminor: rdev & 0xff });
    }
  }
  async function* tree(path: string, as: string, isTop: boolean): AsyncGenerator<Buffer> {
    const st = isTop ? top : await lstat(path);
    if (!st.isDirectory()) {
      yield* entry(path, st, as);
      return;
    }
    if (!(isTop && o.contents)) yield tarHeader({ ...(await dirHeader(st, as, o.keepOwner)) });
    for (const child of (await readdir(path)).sort())
      yield* tree(join(path, child), isTop && o.contents ? child : `${as}/${child}`, false);
  }
  yield* tree(src, name, true);
  yield TAR_END;
}

async function dirHeader(st: Awaited<ReturnType<typeof lstat>>, as: string, keepOwner: boolean) {
  return {
    path: as,
    type: 'directory' as const,
    mode: Number(st.mode) & 0o7777,
    uid: keepOwner ? Number(st.uid) : 0,
    gid: keepOwner ? Number(st.gid) : 0,
    mtime: Math.floor(Number(st.mtimeMs) / 1000),
  };
}

/** The entry's path below the tar's top entry, as components; `..` is refused. */
function below(h: TarHeader): string[] {
  const parts = h.path.split('/').filter((p) => p && p !== '.');
  if (parts.includes('..'))
    throw new CliError(`the archive holds a path with "..": ${h.path}`, 1, undefined, 'CLI_FAILED');
  return parts.slice(1);
}

/**
 * Writes a tar from the container under `dest`: its top entry becomes `dest` itself, what is under
 * it goes under `dest`. Owners are kept only with `keepOwner` (and when run as root).
 */
export async function extractTar(chunks: AsyncIterable<Uint8Array>, dest: string, keepOwner: boolean): Promise<number> {
  const dirs: { path: string; mtime: number }[] = [];
  let bytes = 0;
  const chown = keepOwner && process.getuid?.() === 0;
  for await (const { header: h, body } of readTar(chunks)) {
    const target = join(dest, ...below(h));
    if (h.type === 'directory') {
      await mkdir(target, { recursive: true });
      await chmod(target, h.mode & 0o7777);
      dirs.push({ path: target, mtime: h.mtime });
    } else if (h.type === 'file' || h.type === 'symlink' || h.type === 'link') {
      await rm(target, { force: true });
      if (h.type === 'file') {
        await pipeline(body, createWriteStream(target, { mode: h.mode & 0o7777 }));
        await chmod(target, h.mode & 0o7777);
        bytes += h.sizeBytes;
      } else if (h.type === 'symlink') await symlink(h.linkpath, target);
      else await link(join(dest, ...below({ ...h, path: h.linkpath })), target);
    } else continue; // devices and fifos are not made on the host
    if (chown) await lchown(target, h.uid, h.gid);
    if (h.type === 'file') await utimes(target, h.mtime, h.mtime);
  }
  for (const d of dirs.reverse()) await utimes(d.path, d.mtime, d.mtime).catch(() => {});
  return bytes;
}
