import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import type { AddInstruction, CopyInstruction, DockerfileStep } from '../dockerfile/index.js';
import { createDockerignoreMatcher } from '../dockerfile/index.js';
import { type ErrorCode, SourceError } from '../errors.js';
import { decompressLayer } from '../image/decompress.js';
import { readTar } from '../image/tar-reader.js';
import type { TarWriteEntry } from '../image/tar-writer.js';
import type { LayerTarWriter } from './layers.js';
import { type SourceTree, createDirSourceTree, matchSource, pathParts } from './source-tree.js';

/**
 * COPY and ADD, done on the host: the sources are read from the context (after .dockerignore) or
 * from another stage's filesystem, and the layer is written directly as a tar, with no VM.
 *
 * Rules, as docker applies them: a directory source copies its contents; several sources or a
 * wildcard need a directory destination (ending in `/` or already one); a relative destination is
 * under the WORKDIR; files from the context belong to root unless --chown says otherwise, files from
 * a stage keep their owners; --chmod sets the mode of everything copied; missing parents of the
 * destination are created (0755). ADD of a local tar archive (plain, gzip or zstd) unpacks it.
 * Every mtime is clamped to `sourceDateEpoch` so the same inputs give the same layer.
 */

type CopyStep = (CopyInstruction | AddInstruction) & Pick<DockerfileStep, 'scope'>;

export interface CopyLayerOptions {
  step: CopyStep;
  /** Where path sources are read: the context or a stage/image filesystem. */
  source: SourceTree;
  /** The host directory of the stage being built (destination checks, --chown names). */
  stageRoot: string;
  /** The stage's working directory (relative destinations). */
  workdir: string;
  /** Clamp for every mtime (seconds). */
  sourceDateEpoch: number;
  file?: string;
  writer: LayerTarWriter;
}

interface Planned {
  entry: TarWriteEntry;
  data?: Buffer | { file: string };
}

function fail(o: CopyLayerOptions, code: ErrorCode, message: string, hint?: string): never {
  throw new SourceError(code, message, o.file, o.step.line, o.step.column, hint);
}

/** Reads `user[:group]` as numbers, looking names up in the stage's /etc/passwd and /etc/group. */
export async function resolveChown(stageRoot: string, spec: string): Promise<{ uid: number; gid: number }> {
  const tree = createDirSourceTree(stageRoot);
  const readDb = async (path: string): Promise<string[][]> => {
    const r = tree.resolve(path);
    if (r === undefined) return [];
    try {
      return (await readFile(`${stageRoot}/${r}`, 'utf8')).split('\n').map((l) => l.split(':'));
    } catch {
      return [];
    }
  };
  const [user, group] = spec.split(':', 2);
  let uid: number;
  let gid: number | undefined;
  if (/^\d+$/.test(user)) uid = Number(user);
  else {
    const row = (await readDb('etc/passwd')).find((r) => r[0] === user);
    if (!row) throw new Error(`unable to find user ${user}: no matching entries in passwd file`);
    uid = Number(row[2]);
    gid = Number(row[3]);
  }
  if (group !== undefined && group !== '') {
    if (/^\d+$/.test(group)) gid = Number(group);
    else {
      const row = (await readDb('etc/group')).find((r) => r[0] === group);
      if (!row) throw new Error(`unable to find group ${group}: no matching entries in group file`);
      gid = Number(row[2]);
    }
  }
  return { uid, gid: gid ?? uid };
}

function parseChmod(o: CopyLayerOptions): number | undefined {
  const c = o.step.chmod;
  if (c === undefined) return undefined;
  if (!/^0?[0-7]{3,4}$/.test(c))
    fail(o, 'BUILD_CHMOD_UNSUPPORTED', `--chmod=${c}: only octal modes are supported`, 'write --chmod=0755');
  return Number.parseInt(c, 8);
}

async function archiveKind(path: string): Promise<'tar' | 'compressed' | 'unsupported' | undefined> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'compressed';
    if (bytesRead >= 4 && head.readUInt32BE(0) === 0x28b52ffd) return 'compressed';
    if (bytesRead >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return 'unsupported';
    if (bytesRead >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])))
      return 'unsupported';
    if (bytesRead >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
    return undefined;
  } finally {
    await fh.close();
  }
}

/** Writes the layer of one COPY/ADD step into `o.writer`. Returns the number of entries. */
export async function writeCopyLayer(o: CopyLayerOptions): Promise<number> {
  const step = o.step;
  const stageTree = createDirSourceTree(o.stageRoot);
  const chmod = parseChmod(o);
  if (step.keyword === 'COPY' && step.parents) {
    fail(
      o,
      'BUILD_COPY_PARENTS_UNSUPPORTED',
      'COPY --parents is not supported yet',
      'copy each directory with its own COPY',
    );
  }
  let owner: { uid: number; gid: number } | undefined;
  if (step.chown !== undefined) {
    try {
      owner = await resolveChown(o.stageRoot, step.chown);
    } catch (e) {
      fail(o, 'BUILD_CHOWN_INVALID', `--chown=${step.chown}: ${(e as Error).message}`);
    }
  }
  const clamp = (t: number) => Math.max(0, Math.min(Math.floor(t), o.sourceDateEpoch));
  const exclude = step.exclude.length > 0 ? createDockerignoreMatcher(step.exclude.join('\n')) : undefined;

  // Sources and their matches.
  const matches: { kind: 'path'; path: string }[] = [];
  const heredocs: { name: string; content: string }[] = [];
  let multiple = step.sources.length > 1;
  for (const s of step.sources) {
    if (s.kind === 'heredoc') {
      heredocs.push({ name: s.name, content: s.content });
      continue;
    }
    if (/^(https?|git|ssh):\/\//.test(s.path) || /^git@/.test(s.path)) {
      fail(
        o,
        'BUILD_REMOTE_SOURCE_UNSUPPORTED',
        `${step.keyword} ${s.path}: remote sources are not supported`,
        'download the file into the build context and COPY it',
      );
    }
    const found = matchSource(o.source, s.path).filter((p) => !(exclude?.ignores(p) ?? false));
    if (found.length === 0) {
      fail(
        o,
        'BUILD_COPY_SOURCE_NOT_FOUND',
        `${step.keyword} failed: file not found in build context or excluded by .dockerignore: stat ${s.path}: file does not exist`,
        'check the path (it is relative to the context, or to the stage with --from) and .dockerignore',
      );
    }
    if (found.length > 1 || /[*?[]/.test(s.path)) multiple = true;
    for (const p of found) matches.push({ kind: 'path', path: p });
  }

  // The destination, with its parents resolved inside the stage (a symlinked /usr/bin lands in /bin).
  const rawDest = step.destination === '' ? '.' : step.destination;
  const absolute = rawDest.startsWith('/') ? rawDest : `${o.workdir}/${rawDest}`;
  const destParts = pathParts(absolute);
  const trailing = rawDest.endsWith('/') || rawDest === '.' || rawDest.endsWith('/.');
  const resolvedParent =
    destParts.length === 0
      ? ''
      : (stageTree.resolve(destParts.slice(0, -1).join('/')) ?? destParts.slice(0, -1).join('/'));
  let dest = destParts.length === 0 ? '' : [resolvedParent, destParts[destParts.length - 1]].filter(Boolean).join('/');
  const existing = dest === '' ? { type: 'dir' as const } : stageTree.stat(dest);
  if (existing?.type === 'symlink') {
    const r = stageTree.resolve(dest);
    if (r !== undefined && stageTree.stat(r)?.type === 'dir') dest = r;
  }
  const destIsDir = trailing || dest === '' || stageTree.stat(dest)?.type === 'dir';
  if (multiple && !destIsDir) {
    fail(
      o,
      'BUILD_COPY_DESTINATION_NOT_DIR',
      `When using ${step.keyword} with more than one source file, the destination must be a directory and end with a /`,
      `write ${step.destination}/`,
    );
  }

  const planned = new Map<string, Planned>();
  const join2 = (a: string, b: string) => (a === '' ? b : b === '' ? a : `${a}/${b}`);
  const put = (path: string, p: Planned) => {
    if (path === '') return; // the root keeps its own metadata
    planned.set(path, p);
  };
  const ownerOf = (uid: number, gid: number) => owner ?? { uid, gid };
  const newDirMode = 0o755;

  // Copies one matched source path to `target`.
  const copyPath = async (path: string, target: string): Promise<void> => {
    let st = o.source.stat(path);
    // A source that is itself a symlink is followed (inside its root), as docker does.
    if (st?.type === 'symlink') {
      const r = o.source.resolve(path);
      const followed = r === undefined ? undefined : o.source.stat(r);
      if (followed) {
        st = followed;
        path = r!;
      }
    }
    if (!st) return;
    if (st.type === 'dir') {
      if (target !== '' && !planned.has(target) && stageTree.stat(target)?.type !== 'dir') {
        const ow = ownerOf(0, 0);
        put(target, { entry: { path: target, type: 'directory', mode: chmod ?? newDirMode, ...ow, mtime: 0 } });
      }
      const walk = (dir: string, to: string) => {
        for (const name of o.source.list(dir)) {
          const from = join2(dir, name);
          if (exclude?.ignores(from)) continue;
          const e = o.source.stat(from);
          if (!e) continue;
          const out = join2(to, name);
          const ow = o.source.keepOwners ? ownerOf(e.uid, e.gid) : ownerOf(0, 0);
          const common = { path: out, mode: chmod ?? e.mode, ...ow, mtime: clamp(e.mtime) };
          if (e.type === 'dir') {
            put(out, { entry: { ...common, type: 'directory' } });
            walk(from, out);
          } else if (e.type === 'file') {
            put(out, { entry: { ...common, type: 'file', sizeBytes: e.sizeBytes }, data: { file: e.hostPath } });
          } else if (e.type === 'symlink') {
            put(out, { entry: { ...common, mode: 0o777, type: 'symlink', linkpath: e.linkTarget! } });
          }
        }
      };
      walk(path, target);
      return;
    }
    const ow = o.source.keepOwners ? ownerOf(st.uid, st.gid) : ownerOf(0, 0);
    if (
      st.type === 'file' &&
      step.keyword === 'ADD' &&
      (step as AddInstruction).unpack !== false &&
      !o.source.keepOwners
    ) {
      const kind = await archiveKind(st.hostPath);
      if (kind === 'unsupported') {
        fail(
          o,
          'BUILD_ADD_ARCHIVE_UNSUPPORTED',
          `ADD ${path}: bzip2 and xz archives are not supported`,
          'recompress it with gzip or zstd, or unpack it in a RUN step',
        );
      }
      if (kind !== undefined && (await extractArchive(st.hostPath, dest))) return;
    }
    const common = { path: target, mode: chmod ?? st.mode, ...ow, mtime: clamp(st.mtime) };
    if (st.type === 'file')
      put(target, { entry: { ...common, type: 'file', sizeBytes: st.sizeBytes }, data: { file: st.hostPath } });
    else if (st.type === 'symlink')
      put(target, { entry: { ...common, mode: 0o777, type: 'symlink', linkpath: st.linkTarget! } });
  };

  // ADD of a tar archive: its entries under the destination directory, owners as archived.
  const extractArchive = async (file: string, under: string): Promise<boolean> => {
    const entries: Planned[] = [];
    try {
      for await (const { header, body } of readTar(decompressLayer(createReadStream(file)))) {
        const rel = pathParts(header.path).join('/');
        if (rel === '') continue;
        const path = join2(under, rel);
        const ow = ownerOf(header.uid, header.gid);
        const common = { path, mode: chmod ?? header.mode, ...ow, mtime: clamp(header.mtime) };
        if (header.type === 'directory') entries.push({ entry: { ...common, type: 'directory' } });
        else if (header.type === 'file') {
          const chunks: Buffer[] = [];
          for await (const c of body) chunks.push(c);
          entries.push({ entry: { ...common, type: 'file' }, data: Buffer.concat(chunks) });
        } else if (header.type === 'symlink')
          entries.push({ entry: { ...common, type: 'symlink', linkpath: header.linkpath } });
        else if (header.type === 'link') {
          entries.push({
            entry: { ...common, type: 'link', linkpath: join2(under, pathParts(header.linkpath).join('/')) },
          });
        }
      }
    } catch {
      return false; // not a tar after all: ADD copies it as a file
    }
    for (const e of entries) put(e.entry.path, e);
    return true;
  };

  for (const m of matches) {
    const st = o.source.stat(m.path);
    const base = pathParts(m.path).pop() ?? '';
    const isDirSource =
      m.path === '' ||
      st?.type === 'dir' ||
      (st?.type === 'symlink' && o.source.stat(o.source.resolve(m.path) ?? '')?.type === 'dir');
    await copyPath(m.path, isDirSource ? dest : destIsDir ? join2(dest, base) : dest);
  }
  for (const h of heredocs) {
    const target = destIsDir ? join2(dest, h.name) : dest;
    const ow = ownerOf(0, 0);
    put(target, {
      entry: { path: target, type: 'file', mode: chmod ?? 0o644, ...ow, mtime: 0 },
      data: Buffer.from(h.content),
    });
  }

  // Parents missing from the stage (and from this layer) are created.
  for (const path of [...planned.keys()]) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (planned.has(parent) || stageTree.stat(parent)) continue;
      put(parent, { entry: { path: parent, type: 'directory', mode: newDirMode, ...ownerOf(0, 0), mtime: 0 } });
    }
  }

  const paths = [...planned.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const p of paths) {
    const { entry, data } = planned.get(p)!;
    await o.writer.add(entry, data);
  }
  return paths.length;
}
