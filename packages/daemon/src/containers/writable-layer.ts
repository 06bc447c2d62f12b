/**
 * The container's writable layer as OCI sees a layer, read on the host from its disk (rw.ext4:
 * overlayfs's upper dir at /upper, whiteouts as 0/0 character devices, opaque directories marked
 * with trusted.overlay.opaque). What docker commit, diff and export are made of.
 *
 * The disk is never read in place: a running VM is asked to sync (the image's `sync`), frozen,
 * and its disk copied sparsely; the copy's journal is replayed (e2fsck) and read with debugfs
 * (e2fsprogs), which needs no root and no loop device. A stopped container's disk is copied too,
 * so a VM that died without unmounting leaves nothing half-written for the reader.
 *
 * A --rm container has no disk: its upper dir is a tmpfs in the guest (docs/vm.md). While it runs,
 * Kestrel writes that dir as an OCI layer tar (`/proc/1/exe tar-upper`, an exec session) and the
 * tar is turned into the same entries and files (readLayerTar).
 */
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { link, lstat, lutimes, mkdir, mkdtemp, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  HyprError,
  type Logger,
  TAR_END,
  type TarWriteEntry,
  readTar,
  runCommand,
  tarHeader,
  tarPadding,
} from '@hypr/core';
import { type GuestTar, guestTarOut } from './guest-tar.js';
import type { RunningContainers } from './running.js';
import type { ContainerStore } from './store.js';
import type { ContainerRow } from './types.js';

export interface WritableLayerDeps {
  store: ContainerStore;
  running: RunningContainers;
  logger: Logger;
}

/** One entry of the upper dir, its path relative to the container's root. */
export interface LayerEntry {
  path: string;
  type: 'directory' | 'file' | 'symlink' | 'char' | 'block' | 'fifo';
  mode: number;
  uid: number;
  gid: number;
  sizeBytes: number;
  /** A deletion of what the image has at this path (overlayfs's 0/0 character device). */
  whiteout: boolean;
  /** A directory that hides what the image has under it. */
  opaque: boolean;
}

/** The upper dir read out of a snapshot: its entries (parents first) and their files under `root`. */
export interface WritableLayer {
  entries: LayerEntry[];
  /** Where the regular files and links are, as `root/<path>`. */
  root: string;
  cleanup(): Promise<void>;
}

/** The entry type of a Unix mode's S_IFMT bits (a Map: object keys would be decimal strings). */
const TYPES = new Map<number, LayerEntry['type']>([
  [0o040000, 'directory'],
  [0o100000, 'file'],
  [0o120000, 'symlink'],
  [0o020000, 'char'],
  [0o060000, 'block'],
  [0o010000, 'fifo'],
]);

const PATH_ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];

function unreadable(
  row: ContainerRow,
  why: string,
  hint = 'e2fsprogs (debugfs, e2fsck) must be installed on the host',
): HyprError {
  return new HyprError(
    'CONTAINER_LAYER_UNREADABLE',
    `the writable layer of container ${row.name} could not be read: ${why}`,
    hint,
  );
}

/** The guest's dirty pages reach its disk: `sync` from the image (busybox and coreutils have one). */
async function syncGuest(d: WritableLayerDeps, row: ContainerRow): Promise<void> {
  const handle = d.running.get(row.id)?.handle;
  if (!handle?.exec || row.state !== 'running') return;
  const r = await handle
    .exec({ argv: ['sync'], user: '0', env: PATH_ENV })
    .wait()
    .catch((e) => ({ exitCode: -1, error: String(e) }));
  if (r.exitCode !== 0)
    d.logger.warn({ id: row.id, ...r }, 'sync in the guest failed: the last writes may be missing from the layer');
}

/** A copy of the container's disk that nothing writes to; undefined when it never had one. */
async function snapshotDisk(
  d: WritableLayerDeps,
  row: ContainerRow,
  work: string,
  pause: boolean,
): Promise<string | undefined> {
  const disk = join(d.store.dirOf(row), 'rw.ext4');
  if (!existsSync(disk)) return undefined;
  const copy = join(work, 'rw.ext4');
  await syncGuest(d, row);
  const handle = d.running.get(row.id)?.handle;
  const freeze = pause && row.state === 'running' && !!handle?.pause && !!handle.resume;
  if (freeze) await handle!.pause!();
  try {
    await runCommand('cp', ['--sparse=always', disk, copy]);
  } finally {
    if (freeze) await handle!.resume!();
  }
  // Replays the journal into the copy: what the guest committed is then where debugfs reads it.
  await runCommand('e2fsck', ['-fy', copy], { packageHint: 'e2fsprogs' }).catch((e) => {
    // 1: errors corrected (the journal replayed); anything worse is reported by debugfs below.
    d.logger.debug({ id: row.id, err: e }, 'e2fsck of the layer copy');
  });
  return copy;
}

/** Runs debugfs commands on `image`; the output of each, in order. */
async function debugfs(image: string, commands: string[], work: string): Promise<string[]> {
  const file = join(work, 'debugfs.cmds');
  await writeFile(file, `${commands.join('\n')}\n`);
  const { stdout } = await runCommand('debugfs', ['-f', file, image], { packageHint: 'e2fsprogs' });
  const parts = stdout.split(/^debugfs: /m).slice(1);
  return commands.map((_, i) => (parts[i] ?? '').replace(/^[^\n]*\n?/, ''));
}

function quoted(path: string): string {
  return `"${path}"`;
}

/** `ls -p` lines: /inode/mode/uid/gid/name/size/. */
function parseListing(text: string): { name: string; mode: number; uid: number; gid: number; size: number }[] {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('/') || !line.endsWith('/')) continue;
    const f = line.slice(1, -1).split('/');
    if (f.length < 6) continue;
    const name = f.slice(4, -1).join('/');
    if (name === '.' || name === '..' || !name) continue;
    out.push({
      name,
      mode: Number.parseInt(f[1], 8),
      uid: Number(f[2]),
      gid: Number(f[3]),
      size: Number(f[f.length - 1]) || 0,
    });
  }
  return out;
}

/** Walks /upper of the snapshot a level at a time (one debugfs run per level). */
async function walkUpper(image: string, work: string): Promise<LayerEntry[]> {
  const entries: LayerEntry[] = [];
  const dirs = new Map<string, LayerEntry>();
  let level = [''];
  while (level.length) {
    const cmds = level.flatMap((dir) => [`ls -p ${quoted(`/upper${dir}`)}`, `ea_list ${quoted(`/upper${dir}`)}`]);
    const outs = await debugfs(image, cmds, work);
    const next: string[] = [];
    level.forEach((dir, i) => {
      const parent = dirs.get(dir);
      if (parent && /trusted\.overlay\.opaque \(\d+\) = "y"/.test(outs[2 * i + 1])) parent.opaque = true;
      for (const f of parseListing(outs[2 * i])) {
        const type = TYPES.get(f.mode & 0o170000);
        if (!type) continue; // sockets are not part of a layer
        const path = `${dir}/${f.name}`.slice(1);
        const entry: LayerEntry = {
          path,
          type,
          mode: f.mode & 0o7777,
          uid: f.uid,
          gid: f.gid,
          sizeBytes: type === 'file' ? f.size : 0,
          whiteout: type === 'char',
          opaque: false,
        };
        entries.push(entry);
        if (type === 'directory') {
          next.push(`/${path}`);
          dirs.set(`/${path}`, entry);
        }
      }
    });
    level = next;
  }
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The files Kestrel writes at each start (docker bind-mounts them): not the container's changes,
 * so not in its diff or a commit. A directory left with nothing else changed under it goes too.
 */
const RUNTIME_FILES = new Set(['etc/hostname', 'etc/hosts', 'etc/resolv.conf']);

function withoutRuntimeFiles(entries: LayerEntry[]): LayerEntry[] {
  const kept = entries.filter((e) => !RUNTIME_FILES.has(e.path));
  if (kept.length === entries.length) return entries;
  return kept.filter((e) => e.path !== 'etc' || e.opaque || kept.some((o) => o.path.startsWith('etc/')));
}

/** Kestrel's tool writing the upper dir as a layer tar (guest/PROTOCOL.md, "Tools in the container"). */
const TAR_UPPER = ['/proc/1/exe', 'tar-upper'];

/**
 * The layer's tar as the running guest writes it; undefined when the VM is not running (a --rm
 * container that ran is removed with its layer: nothing to read). No pause here, whatever the
 * caller asked: a frozen VM runs no exec session, so the tar is of the live upper dir, and a file
 * the program is writing meanwhile may be caught half-written (docker commit --pause=false).
 */
function guestUpperTar(d: WritableLayerDeps, row: ContainerRow): GuestTar | undefined {
  const handle = d.running.get(row.id)?.handle;
  if (!handle || (row.state !== 'running' && row.state !== 'paused')) return undefined;
  if (row.state === 'paused')
    throw new HyprError(
      'CONTAINER_IS_PAUSED',
      `Container ${row.id} is paused: its writable layer is in the guest's memory, read by the guest itself`,
      `hypr unpause ${row.name}`,
    );
  if (!handle.exec) throw unreadable(row, 'its runtime runs no exec sessions', 'run it without --rm');
  return guestTarOut(handle.exec.bind(handle), TAR_UPPER, (why) =>
    unreadable(row, `kestrel tar-upper: ${why}`, 'the container must run a Kestrel with tar-upper: recreate it'),
  );
}

function layerTarError(why: string): HyprError {
  return new HyprError('CONTAINER_LAYER_UNREADABLE', `the layer tar from the guest is not a layer: ${why}`);
}

/** A tar name as a layer path ("./a/b/" → "a/b"); a name leaving the root is refused. */
function layerPath(name: string): string {
  const path = posix.normalize(`/${name}`).slice(1).replace(/\/+$/, '');
  if (!path || name.split('/').includes('..')) throw layerTarError(`the name "${name}" is not inside the layer`);
  return path;
}

/**
 * An OCI layer tar (whiteouts as .wh.NAME, opaque directories with .wh..wh..opq) as entries, their
 * files and links written under `root` (which must not exist or be empty). The tar comes from the
 * guest, so it is checked as untrusted: every entry's directory must be a directory of the tar
 * before it, and nothing is written through a link or over an earlier entry.
 */
export async function readLayerTar(chunks: AsyncIterable<Uint8Array>, root: string): Promise<LayerEntry[]> {
  await mkdir(root, { recursive: true });
  const byPath = new Map<string, LayerEntry>();
  const times: [string, number][] = [];
  for await (const { header: h, body } of readTar(chunks)) {
    const path = layerPath(h.path);
    const slash = path.lastIndexOf('/');
    const dir = slash < 0 ? '' : path.slice(0, slash);
    const name = path.slice(slash + 1);
    const parent = byPath.get(dir);
    if (dir && parent?.type !== 'directory') throw layerTarError(`${path}: ${dir} is not a directory before it`);
    if (name === '.wh..wh..opq') {
      if (parent) parent.opaque = true;
      continue;
    }
    const whiteout = name.startsWith('.wh.');
    const at = whiteout ? (dir ? `${dir}/${name.slice(4)}` : name.slice(4)) : path;
    if (!at || byPath.has(at)) throw layerTarError(`${at || path} is in the tar twice`);
    const type = whiteout ? 'char' : h.type === 'link' ? 'file' : h.type;
    if (type === 'other') continue;
    const entry: LayerEntry = {
      path: at,
      type,
      mode: whiteout ? 0 : h.mode & 0o7777,
      uid: whiteout ? 0 : h.uid,
      gid: whiteout ? 0 : h.gid,
      sizeBytes: h.type === 'file' ? h.sizeBytes : 0,
      whiteout,
      opaque: false,
    };
    const local = join(root, at);
    if (whiteout) {
      // nothing on disk: layerTar writes a whiteout from its entry alone
    } else if (h.type === 'directory') {
      await mkdir(local, { mode: 0o700 });
    } else if (h.type === 'file') {
      await pipeline(body, createWriteStream(local, { flags: 'wx', mode: 0o600 }));
    } else if (h.type === 'link') {
      const target = byPath.get(layerPath(h.linkpath));
      if (target?.type !== 'file' || target.whiteout)
        throw layerTarError(`${at}: links to ${h.linkpath}, not a file before it`);
      await link(join(root, target.path), local);
      entry.sizeBytes = target.sizeBytes;
    } else if (h.type === 'symlink') {
      await symlink(h.linkpath, local);
    }
    if (!whiteout && (h.type === 'directory' || h.type === 'file' || h.type === 'symlink'))
      times.push([local, h.mtime]);
    byPath.set(at, entry);
  }
  // Children first: writing into a directory changes its time.
  for (const [local, mtime] of times.reverse()) await lutimes(local, mtime, mtime);
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Reads the writable layer of a container (running or not). `pause` freezes a running VM while its
 * disk is copied (docker commit's default); a layer with no disk is read unfrozen (guestUpperTar).
 */
export async function readWritableLayer(
  d: WritableLayerDeps,
  row: ContainerRow,
  opts: { pause?: boolean } = {},
): Promise<WritableLayer> {
  const work = await mkdtemp(join(tmpdir(), 'hypr-layer-'));
  const cleanup = () => rm(work, { recursive: true, force: true });
  try {
    const image = await snapshotDisk(d, row, work, opts.pause ?? true);
    const root = join(work, 'upper');
    if (!image) {
      const tar = guestUpperTar(d, row);
      if (!tar) return { entries: [], root, cleanup };
      try {
        return { entries: withoutRuntimeFiles(await readLayerTar(tar.chunks, root)), root, cleanup };
      } finally {
        tar.cancel();
      }
    }
    const [probe] = await debugfs(image, ['ls -p /upper'], work);
    if (!parseListing(probe).length) return { entries: [], root, cleanup };
    const entries = withoutRuntimeFiles(await walkUpper(image, work));
    await debugfs(image, [`rdump /upper ${quoted(work)}`], work);
    return { entries, root, cleanup };
  } catch (e) {
    await cleanup();
    if (e instanceof HyprError && (e.code === 'CONTAINER_LAYER_UNREADABLE' || e.code === 'CONTAINER_IS_PAUSED'))
      throw e;
    throw Object.assign(unreadable(row, HyprError.from(e).message), { cause: e });
  }
}

/** The OCI tar of the layer: whiteouts as .wh.NAME, opaque directories with .wh..wh..opq. */
export async function* layerTar(layer: WritableLayer): AsyncGenerator<Buffer> {
  for (const e of layer.entries) {
    const slash = e.path.lastIndexOf('/');
    const dir = slash < 0 ? '' : `${e.path.slice(0, slash + 1)}`;
    const name = e.path.slice(slash + 1);
    const local = join(layer.root, e.path);
    const st = await lstat(local).catch(() => undefined);
    const mtime = st ? Math.floor(st.mtimeMs / 1000) : 0;
    if (e.whiteout) {
      yield tarHeader({ path: `${dir}.wh.${name}`, type: 'file', mode: 0o644, mtime });
      continue;
    }
    const base: TarWriteEntry = { path: e.path, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtime };
    if (e.type === 'file') {
      const size = st?.size ?? 0;
      yield tarHeader({ ...base, sizeBytes: size });
      if (size > 0) for await (const c of createReadStream(local, { start: 0, end: size - 1 })) yield c as Buffer;
      yield tarPadding(size);
    } else if (e.type === 'symlink') {
      yield tarHeader({ ...base, linkpath: st ? await readlink(local) : '' });
    } else {
      yield tarHeader(base);
      if (e.opaque) yield tarHeader({ path: `${e.path}/.wh..wh..opq`, type: 'file', mode: 0o644, mtime });
    }
  }
  yield TAR_END;
}
