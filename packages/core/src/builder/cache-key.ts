import { createHash } from 'node:crypto';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type DockerfileStage,
  type DockerfileStep,
  type DockerignoreMatcher,
  PROXY_BUILD_ARGS,
  createDockerignoreMatcher,
} from '../dockerfile/index.js';
import { type BuildGraph, resolveBuildSource } from './dag.js';

/**
 * Cache keys. A key is `sha256:` + hex SHA-256 of a canonical JSON document (keys sorted, no
 * whitespace, version field `v`), so the same inputs give the same key on any machine:
 *
 *   base key   { v, base: "scratch" | { image, digest? } | stage's final key, platform }
 *   step key   { v, parent, instruction, env, content }
 *
 * - `parent` is the key of the last step that changed the filesystem (RUN, COPY, ADD, WORKDIR) or
 *   the base key. Metadata steps (ENV, LABEL, CMD …) get keys too but are not parents: an ENV nobody
 *   reads does not invalidate the layers after it; one a RUN reads does, through `env`.
 * - `instruction` is the typed step after expansion, without lines, columns or original text
 *   (heredoc bodies included; COPY <<EOF bodies after expansion).
 * - `env` is what the step can observe besides its text: for RUN every ARG in scope with a value and
 *   every ENV (proxy args excluded, as docker does), the user, the workdir and the shell; for
 *   COPY/ADD/WORKDIR the workdir (relative paths) and, for WORKDIR, the user.
 * - `content`, for COPY/ADD from the context and bind mounts of it, is the digest of the files read
 *   (after .dockerignore and --exclude): each file's path, type, permission bits and bytes, sorted by
 *   path; never mtimes, owners or the order the disk lists them in. For `--from=stage` it is that
 *   stage's final key; for `--from=image` the image reference (and digest when known).
 */

export const CACHE_KEY_VERSION = 1;

/** A file of the build context as the cache sees it. */
export interface ContextFile {
  /** Slash-separated path relative to the context root. */
  path: string;
  type: 'file' | 'dir' | 'symlink';
  /** Permission bits (mode & 0o7777). */
  mode: number;
  /** SHA-256 hex of the bytes (files) or of the link target (symlinks). */
  sha256: string;
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** JSON with object keys sorted and undefined fields dropped. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The digest of a canonical JSON document. */
export function digestCacheInput(input: unknown): string {
  return `sha256:${sha256(canonicalJson(input))}`;
}

export interface ReadBuildContextOptions {
  /** .dockerignore text or matcher; files it ignores are not read. */
  dockerignore?: string | DockerignoreMatcher;
}

/** Walks a context directory (after .dockerignore) into ContextFiles, sorted by path. */
export async function readBuildContext(dir: string, options: ReadBuildContextOptions = {}): Promise<ContextFile[]> {
  const ignore =
    typeof options.dockerignore === 'string' ? createDockerignoreMatcher(options.dockerignore) : options.dockerignore;
  const out: ContextFile[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(dir, rel), { withFileTypes: true });
    for (const e of entries) {
      const path = rel === '' ? e.name : `${rel}/${e.name}`;
      const abs = join(dir, path);
      const ignored = ignore?.ignores(path) ?? false;
      const st = await lstat(abs);
      if (st.isDirectory()) {
        if (ignored && !ignore!.mayReinclude(path)) continue;
        if (!ignored) out.push({ path, type: 'dir', mode: st.mode & 0o7777, sha256: '' });
        await walk(path);
      } else if (!ignored) {
        if (st.isSymbolicLink()) {
          out.push({ path, type: 'symlink', mode: st.mode & 0o7777, sha256: sha256(await readlink(abs)) });
        } else if (st.isFile()) {
          out.push({ path, type: 'file', mode: st.mode & 0o7777, sha256: sha256(await readFile(abs)) });
        }
      }
    }
  };
  await walk('');
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return out;
}

function sourcePattern(source: string): string {
  const parts: string[] = [];
  for (const seg of source.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return parts.join('/');
}

/** The context files a list of COPY/ADD sources reads, minus --exclude patterns. */
export function selectContextFiles(
  files: readonly ContextFile[],
  sources: readonly string[],
  exclude: readonly string[] = [],
): ContextFile[] {
  const patterns = sources.map(sourcePattern);
  if (patterns.length === 0) return [];
  const matcher = createDockerignoreMatcher(patterns.map((p) => (p === '' ? '**' : p)).join('\n'));
  const excluder = exclude.length > 0 ? createDockerignoreMatcher(exclude.join('\n')) : undefined;
  return files.filter((f) => matcher.ignores(f.path) && !(excluder?.ignores(f.path) ?? false));
}

/** Digest of files: path, type, permission bits and content hash, in path order. */
export function digestContextFiles(files: readonly ContextFile[]): string {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return digestCacheInput(sorted.map((f) => [f.path, f.type, f.mode, f.sha256]));
}

/** The instruction as it enters a key: no location, no original text, no scope. */
export function cacheInstruction(step: DockerfileStep): Record<string, unknown> {
  const { line, endLine, column, original, scope, ...rest } = step as DockerfileStep & Record<string, unknown>;
  if (step.keyword === 'RUN') {
    return {
      ...rest,
      heredocs: step.heredocs.map((h) => ({
        name: h.name,
        expand: h.expand,
        chomp: h.chomp,
        fd: h.fd,
        content: h.content,
      })),
    };
  }
  return rest;
}

const FS_KEYWORDS = new Set(['RUN', 'COPY', 'ADD', 'WORKDIR']);
const PROXY = new Set<string>(PROXY_BUILD_ARGS);

/** What a step observes besides its own text (see the module comment). */
export function stepEnvironment(step: DockerfileStep): Record<string, unknown> {
  const s = step.scope;
  switch (step.keyword) {
    case 'RUN': {
      const vars: Record<string, string> = {};
      for (const [k, v] of Object.entries(s.args)) if (!PROXY.has(k)) vars[k] = v;
      for (const [k, v] of Object.entries(s.env)) vars[k] = v;
      return { vars, user: s.user, workdir: s.workdir, shell: s.shell };
    }
    case 'COPY':
    case 'ADD':
      return { workdir: s.workdir };
    case 'WORKDIR':
      return { workdir: s.workdir, user: s.user };
    default:
      return {};
  }
}

export interface StepCacheKey {
  stage: number;
  step: number;
  key: string;
  /** false for metadata steps (their key is not the parent of the next step). */
  changesFilesystem: boolean;
}

export interface ComputeCacheKeysOptions {
  /** Files of the build context after .dockerignore (readBuildContext). */
  contextFiles: readonly ContextFile[];
  /** Resolved digests of image references (base images, --from images), when known. */
  imageDigests?: Readonly<Record<string, string>>;
  /** Target platform, part of every base key. */
  platform?: string;
}

export interface BuildCacheKeys {
  /** Base key of each reachable stage. */
  bases: Map<number, string>;
  /** Keys of each step of each reachable stage, in step order. */
  steps: Map<number, StepCacheKey[]>;
  /** Key of each stage's final filesystem (what --from=stage reads). */
  finals: Map<number, string>;
}

function isRemote(source: string): boolean {
  return /^(https?|git|ssh):\/\//.test(source) || /^git@/.test(source) || /\.git(#.*)?$/.test(source);
}

/** Computes every key of a graph, stages in topological order. */
export function computeBuildCacheKeys(graph: BuildGraph, options: ComputeCacheKeysOptions): BuildCacheKeys {
  const digests = options.imageDigests ?? {};
  const bases = new Map<number, string>();
  const steps = new Map<number, StepCacheKey[]>();
  const finals = new Map<number, string>();
  const imageInput = (ref: string) => ({ image: ref, digest: digests[ref] });

  for (const index of graph.order) {
    const stage = graph.stages.get(index)!.stage;
    const platform = stage.platform ?? options.platform;
    let base: string;
    if (stage.base.kind === 'stage') base = finals.get(stage.base.index)!;
    else
      base = digestCacheInput({
        v: CACHE_KEY_VERSION,
        base: stage.base.kind === 'scratch' ? 'scratch' : imageInput(stage.base.ref),
        platform,
      });
    bases.set(index, base);
    let parent = base;
    const keys: StepCacheKey[] = [];
    stage.steps.forEach((step, i) => {
      const content = stepContent(graph, stage, step, options.contextFiles, finals, imageInput);
      const key = digestCacheInput({
        v: CACHE_KEY_VERSION,
        parent,
        instruction: cacheInstruction(step),
        env: stepEnvironment(step),
        content,
      });
      const changesFilesystem = FS_KEYWORDS.has(step.keyword);
      keys.push({ stage: index, step: i, key, changesFilesystem });
      if (changesFilesystem) parent = key;
    });
    steps.set(index, keys);
    finals.set(index, parent);
  }
  return { bases, steps, finals };
}

function stepContent(
  graph: BuildGraph,
  stage: DockerfileStage,
  step: DockerfileStep,
  files: readonly ContextFile[],
  finals: Map<number, string>,
  imageInput: (ref: string) => unknown,
): unknown {
  const fromRef = (from: string) => {
    const ref = resolveBuildSource(graph.dockerfile, from, stage.index);
    return ref.kind === 'stage' ? { stage: finals.get(ref.index) } : imageInput(ref.ref);
  };
  if (step.keyword === 'COPY' || step.keyword === 'ADD') {
    if (step.keyword === 'COPY' && step.from !== undefined) return fromRef(step.from);
    const paths = step.sources.flatMap((s) => (s.kind === 'path' && !isRemote(s.path) ? [s.path] : []));
    return paths.length === 0 ? undefined : digestContextFiles(selectContextFiles(files, paths, step.exclude));
  }
  if (step.keyword === 'RUN' && step.mounts.length > 0) {
    return step.mounts.map((m) => {
      if (m.type !== 'bind' && m.type !== 'cache') return null;
      if (m.from !== undefined) return fromRef(m.from);
      if (m.type === 'bind') return digestContextFiles(selectContextFiles(files, [m.source ?? '.']));
      return null;
    });
  }
  return undefined;
}
