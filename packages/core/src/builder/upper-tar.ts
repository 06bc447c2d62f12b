import { lstat, mkdir, mkdtemp, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../process.js';
import { LayerTarWriter } from './layers.js';

/**
 * The layer of an overlay upper dir, written on the host as Kestrel writes it in the guest
 * (guest/build.c, tar_tree): depth first, names in byte order, the root and top-level proc, sys
 * and dev left out, sockets skipped, whiteouts (0/0 character devices) as `.wh.NAME`, opaque
 * directories followed by `.wh..wh..opq`, a regular file with several links written once and then
 * as hard links to its first path. The native builder's layers are then normalised like the VM's,
 * so the same changes give the same bytes.
 *
 * Node cannot read the `trusted.overlay.opaque` xattr, so opaque directories are found through
 * overlayfs itself: a read-only overlay of the upper dir over a probe tree with a file in every
 * directory shows a directory's probe file only when neither it nor a parent is opaque.
 */

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** The upper dir's directories (relative, parents first). */
async function listDirs(upper: string, rel = '', out: string[] = []): Promise<string[]> {
  for (const e of await readdir(join(upper, rel), { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const path = rel === '' ? e.name : `${rel}/${e.name}`;
    out.push(path);
    await listDirs(upper, path, out);
  }
  return out;
}

/** The opaque directories of an upper dir. Needs root (it mounts an overlay). */
export async function findOpaqueDirs(upper: string, work: string): Promise<Set<string>> {
  const dirs = await listDirs(upper);
  const opaque = new Set<string>();
  if (dirs.length === 0) return opaque;
  const base = await mkdtemp(join(work, 'probe-'));
  const probe = join(base, 'lower');
  const view = join(base, 'view');
  try {
    for (const d of ['', ...dirs]) {
      await mkdir(join(probe, d), { recursive: true });
      await writeFile(join(probe, d, '.hypr-probe'), '');
    }
    await mkdir(view);
    await runCommand('mount', ['-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${upper}:${probe}`, view]);
    try {
      const hidden = new Set<string>();
      for (const d of dirs) {
        const parent = d.includes('/') ? d.slice(0, d.lastIndexOf('/')) : '';
        if (hidden.has(parent)) {
          hidden.add(d); // under an opaque dir nothing is opaque: it was all made in this layer
          continue;
        }
        if (!(await lstat(join(view, d, '.hypr-probe')).catch(() => undefined))) {
          hidden.add(d);
          opaque.add(d);
        }
      }
    } finally {
      await runCommand('umount', [view]);
    }
  } finally {
    await rm(base, { recursive: true, force: true });
  }
  return opaque;
}

/** Writes the layer of `upper` to `tarPath` (see the module comment). */
export async function writeUpperLayer(upper: string, tarPath: string, work: string): Promise<void> {
  const opaque = await findOpaqueDirs(upper, work);
  const links = new Map<string, string>();
  const w = await LayerTarWriter.create(tarPath);
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(join(upper, rel))).sort(byteOrder);
    for (const name of names) {
      if (rel === '' && (name === 'proc' || name === 'sys' || name === 'dev')) continue;
      const path = rel === '' ? name : `${rel}/${name}`;
      const st = await lstat(join(upper, path));
      const meta = {
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        mtime: Math.max(0, Math.floor(st.mtimeMs / 1000)),
      };
      const marker = { type: 'file' as const, mode: 0o644, uid: 0, gid: 0, mtime: meta.mtime };
      if (st.isCharacterDevice() && st.rdev === 0) {
        await w.add({ ...marker, path: rel === '' ? `.wh.${name}` : `${rel}/.wh.${name}` }, Buffer.alloc(0));
      } else if (st.isDirectory()) {
        await w.add({ ...meta, path: `${path}/`, type: 'directory' });
        if (opaque.has(path)) await w.add({ ...marker, path: `${path}/.wh..wh..opq` }, Buffer.alloc(0));
        await walk(path);
      } else if (st.isSymbolicLink()) {
        await w.add({ ...meta, path, type: 'symlink', linkpath: await readlink(join(upper, path)) });
      } else if (st.isFile()) {
        const id = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? links.get(id) : undefined;
        if (first !== undefined) await w.add({ ...meta, path, type: 'link', linkpath: first });
        else {
          // As kestrel's table: 2048 links at most, paths under 256 bytes.
          if (st.nlink > 1 && links.size < 2048 && Buffer.byteLength(path) < 256) links.set(id, path);
          await w.add({ ...meta, path, type: 'file', sizeBytes: st.size }, { file: join(upper, path) });
        }
      } else if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
        const type = st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : 'fifo';
        const dev = {
          devmajor: Math.floor(st.rdev / 256) & 0xfff,
          devminor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00),
        };
        await w.add({ ...meta, path, type, ...(type === 'fifo' ? {} : dev) });
      }
    }
  };
  try {
    await walk('');
    await w.close();
  } catch (e) {
    await w.abort();
    throw e;
  }
}
