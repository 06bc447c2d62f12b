import type { AddInstruction, CopyInstruction, DockerfileStep } from '../dockerfile/index.js';
import { createDockerignoreMatcher } from '../dockerfile/index.js';
import { type ErrorCode, SourceError } from '../errors.js';
import type { TarWriteEntry } from '../image/tar-writer.js';
import { type RemoteSource, isUrlSource } from './add-url.js';
import { archiveKind, readArchive, resolveChown } from './copy-sources.js';
import type { LayerTarWriter } from './layers.js';
import { type SourceEntry, type SourceTree, createDirSourceTree, matchSource, pathParts } from './source-tree.js';

export { resolveChown } from './copy-sources.js';

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
  /** ADD's http(s) sources, downloaded (add-url.ts), by the source as written. */
  remote?: ReadonlyMap<string, RemoteSource>;
}

interface Planned {
  entry: TarWriteEntry;
  data?: Buffer | { file: string };
}

const NEW_DIR_MODE = 0o755;

function fail(o: CopyLayerOptions, code: ErrorCode, message: string, hint?: string): never {
  throw new SourceError(code, message, o.file, o.step.line, o.step.column, hint);
}

function parseChmod(o: CopyLayerOptions): number | undefined {
  const c = o.step.chmod;
  if (c === undefined) return undefined;
  if (!/^0?[0-7]{3,4}$/.test(c))
    fail(o, 'BUILD_CHMOD_UNSUPPORTED', `--chmod=${c}: only octal modes are supported`, 'write --chmod=0755');
  return Number.parseInt(c, 8);
}

async function parseChown(o: CopyLayerOptions): Promise<{ uid: number; gid: number } | undefined> {
  if (o.step.chown === undefined) return undefined;
  try {
    return await resolveChown(o.stageRoot, o.step.chown);
  } catch (e) {
    fail(o, 'BUILD_CHOWN_INVALID', `--chown=${o.step.chown}: ${(e as Error).message}`);
  }
}

const join2 = (a: string, b: string) => (a === '' ? b : b === '' ? a : `${a}/${b}`);

/** The sources' matches (wildcards expanded, --exclude applied) and the heredocs. */
function matchSources(o: CopyLayerOptions, exclude: ReturnType<typeof createDockerignoreMatcher> | undefined) {
  const step = o.step;
  const matches: string[] = [];
  const heredocs: { name: string; content: string }[] = [];
  const remote: RemoteSource[] = [];
  let multiple = step.sources.length > 1;
  for (const s of step.sources) {
    if (s.kind === 'heredoc') {
      heredocs.push({ name: s.name, content: s.content });
      continue;
    }
    const downloaded = step.keyword === 'ADD' && isUrlSource(s.path) ? o.remote?.get(s.path) : undefined;
    if (downloaded) {
      remote.push(downloaded);
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
    matches.push(...found);
  }
  return { matches, heredocs, remote, multiple };
}

/** The destination, with its parents resolved inside the stage (a symlinked /usr/bin lands in /bin). */
function resolveDestination(o: CopyLayerOptions, stageTree: SourceTree, multiple: boolean) {
  const rawDest = o.step.destination === '' ? '.' : o.step.destination;
  const absolute = rawDest.startsWith('/') ? rawDest : `${o.workdir}/${rawDest}`;
  const destParts = pathParts(absolute);
  const trailing = rawDest.endsWith('/') || rawDest === '.' || rawDest.endsWith('/.');
  const parent = destParts.slice(0, -1).join('/');
  const resolvedParent = destParts.length === 0 ? '' : (stageTree.resolve(parent) ?? parent);
  let dest = destParts.length === 0 ? '' : join2(resolvedParent, destParts[destParts.length - 1]);
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
      `When using ${o.step.keyword} with more than one source file, the destination must be a directory and end with a /`,
      `write ${o.step.destination}/`,
    );
  }
  return { dest, destIsDir };
}

/** The entries of one COPY/ADD layer, by path, planned before anything is written. */
class CopyPlan {
  readonly planned = new Map<string, Planned>();
  readonly stageTree: SourceTree;

  constructor(
    private readonly o: CopyLayerOptions,
    private readonly chmod: number | undefined,
    private readonly owner: { uid: number; gid: number } | undefined,
    private readonly exclude: ReturnType<typeof createDockerignoreMatcher> | undefined,
  ) {
    this.stageTree = createDirSourceTree(o.stageRoot);
  }

  private clamp(t: number): number {
    return Math.max(0, Math.min(Math.floor(t), this.o.sourceDateEpoch));
  }

  private ownerOf(uid: number, gid: number): { uid: number; gid: number } {
    return this.owner ?? { uid, gid };
  }

  /** Owners as the source has them: kept for stages, root for the context. */
  private sourceOwner(e: { uid: number; gid: number }): { uid: number; gid: number } {
    return this.o.source.keepOwners ? this.ownerOf(e.uid, e.gid) : this.ownerOf(0, 0);
  }

  private put(path: string, p: Planned): void {
    if (path === '') return; // the root keeps its own metadata
    this.planned.set(path, p);
  }

  /** The entry of one source entry at `path` (a file, a directory or a symlink). */
  private putEntry(path: string, e: SourceEntry): void {
    const common = { path, mode: this.chmod ?? e.mode, ...this.sourceOwner(e), mtime: this.clamp(e.mtime) };
    if (e.type === 'dir') this.put(path, { entry: { ...common, type: 'directory' } });
    else if (e.type === 'file')
      this.put(path, { entry: { ...common, type: 'file', sizeBytes: e.sizeBytes }, data: { file: e.hostPath } });
    else if (e.type === 'symlink')
      this.put(path, { entry: { ...common, mode: 0o777, type: 'symlink', linkpath: e.linkTarget! } });
  }

  /** A directory source: its contents under `target`, which is made when the stage lacks it. */
  private planDir(path: string, target: string): void {
    if (target !== '' && !this.planned.has(target) && this.stageTree.stat(target)?.type !== 'dir') {
      const mode = this.chmod ?? NEW_DIR_MODE;
      this.put(target, { entry: { path: target, type: 'directory', mode, ...this.ownerOf(0, 0), mtime: 0 } });
    }
    const walk = (dir: string, to: string) => {
      for (const name of this.o.source.list(dir)) {
        const from = join2(dir, name);
        if (this.exclude?.ignores(from)) continue;
        const e = this.o.source.stat(from);
        if (!e) continue;
        this.putEntry(join2(to, name), e);
        if (e.type === 'dir') walk(from, join2(to, name));
      }
    };
    walk(path, target);
  }

  /** ADD of a tar archive: its entries under `under`, owners as archived. False: not a tar after all. */
  private async planArchive(file: string, under: string): Promise<boolean> {
    let entries: Awaited<ReturnType<typeof readArchive>>;
    try {
      entries = await readArchive(file);
    } catch {
      return false; // ADD copies it as a file
    }
    for (const { header, data } of entries) {
      const rel = pathParts(header.path).join('/');
      if (rel === '') continue;
      const path = join2(under, rel);
      const common = { path, mode: this.chmod ?? header.mode, ...this.ownerOf(header.uid, header.gid) };
      const entry = { ...common, mtime: this.clamp(header.mtime) };
      if (header.type === 'directory') this.put(path, { entry: { ...entry, type: 'directory' } });
      else if (header.type === 'file') this.put(path, { entry: { ...entry, type: 'file' }, data });
      else if (header.type === 'symlink')
        this.put(path, { entry: { ...entry, type: 'symlink', linkpath: header.linkpath } });
      else if (header.type === 'link') {
        const linkpath = join2(under, pathParts(header.linkpath).join('/'));
        this.put(path, { entry: { ...entry, type: 'link', linkpath } });
      }
    }
    return true;
  }

  /** Whether ADD unpacks this file (a local archive, not from a stage, unless --unpack=false). */
  private async unpacks(path: string, hostPath: string): Promise<boolean> {
    const step = this.o.step;
    if (step.keyword !== 'ADD' || (step as AddInstruction).unpack === false || this.o.source.keepOwners) return false;
    const kind = await archiveKind(hostPath);
    if (kind === 'unsupported') {
      fail(
        this.o,
        'BUILD_ADD_ARCHIVE_UNSUPPORTED',
        `ADD ${path}: bzip2 and xz archives are not supported`,
        'recompress it with gzip or zstd, or unpack it in a RUN step',
      );
    }
    return kind !== undefined;
  }

  /** Copies one matched source path to `target`; an archive ADD unpacks goes under `dest`. */
  async copyPath(path: string, target: string, dest: string): Promise<void> {
    let st = this.o.source.stat(path);
    // A source that is itself a symlink is followed (inside its root), as docker does.
    if (st?.type === 'symlink') {
      const r = this.o.source.resolve(path);
      const followed = r === undefined ? undefined : this.o.source.stat(r);
      if (followed) {
        st = followed;
        path = r!;
      }
    }
    if (!st) return;
    if (st.type === 'dir') return this.planDir(path, target);
    if (st.type === 'file' && (await this.unpacks(path, st.hostPath)) && (await this.planArchive(st.hostPath, dest)))
      return;
    if (st.type === 'file' || st.type === 'symlink') this.putEntry(target, st);
  }

  /** A downloaded ADD source: mode 0600 and root's unless --chmod/--chown say otherwise. */
  addRemote(target: string, r: RemoteSource): void {
    const common = { path: target, mode: this.chmod ?? 0o600, ...this.ownerOf(0, 0), mtime: this.clamp(r.mtime) };
    this.put(target, { entry: { ...common, type: 'file', sizeBytes: r.sizeBytes }, data: { file: r.hostPath } });
  }

  addHeredoc(target: string, content: string): void {
    const entry = { path: target, type: 'file' as const, mode: this.chmod ?? 0o644, ...this.ownerOf(0, 0), mtime: 0 };
    this.put(target, { entry, data: Buffer.from(content) });
  }

  /** Parents missing from the stage (and from this layer) are created. */
  addParents(): void {
    for (const path of [...this.planned.keys()]) {
      const parts = path.split('/');
      for (let i = 1; i < parts.length; i++) {
        const parent = parts.slice(0, i).join('/');
        if (this.planned.has(parent) || this.stageTree.stat(parent)) continue;
        const entry = { path: parent, type: 'directory' as const, mode: NEW_DIR_MODE, ...this.ownerOf(0, 0), mtime: 0 };
        this.put(parent, { entry });
      }
    }
  }

  /** Writes the entries in path order; returns how many. */
  async write(writer: LayerTarWriter): Promise<number> {
    const paths = [...this.planned.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const p of paths) {
      const { entry, data } = this.planned.get(p)!;
      await writer.add(entry, data);
    }
    return paths.length;
  }
}

/** Writes the layer of one COPY/ADD step into `o.writer`. Returns the number of entries. */
export async function writeCopyLayer(o: CopyLayerOptions): Promise<number> {
  const chmod = parseChmod(o);
  if (o.step.keyword === 'COPY' && o.step.parents) {
    fail(
      o,
      'BUILD_COPY_PARENTS_UNSUPPORTED',
      'COPY --parents is not supported yet',
      'copy each directory with its own COPY',
    );
  }
  const owner = await parseChown(o);
  const exclude = o.step.exclude.length > 0 ? createDockerignoreMatcher(o.step.exclude.join('\n')) : undefined;
  const { matches, heredocs, remote, multiple } = matchSources(o, exclude);
  const plan = new CopyPlan(o, chmod, owner, exclude);
  const { dest, destIsDir } = resolveDestination(o, plan.stageTree, multiple);
  for (const m of matches) {
    const st = o.source.stat(m);
    const base = pathParts(m).pop() ?? '';
    const isDirSource =
      m === '' ||
      st?.type === 'dir' ||
      (st?.type === 'symlink' && o.source.stat(o.source.resolve(m) ?? '')?.type === 'dir');
    await plan.copyPath(m, isDirSource ? dest : destIsDir ? join2(dest, base) : dest, dest);
  }
  for (const r of remote) plan.addRemote(destIsDir ? join2(dest, r.name) : dest, r);
  for (const h of heredocs) plan.addHeredoc(destIsDir ? join2(dest, h.name) : dest, h.content);
  plan.addParents();
  return plan.write(o.writer);
}
