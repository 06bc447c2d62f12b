import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { HyprError } from '../errors.js';
import type { ContextFile } from './cache-key.js';

/**
 * What COPY and ADD read from: the build context (only the files left after .dockerignore) or the
 * filesystem of another stage or image. Paths are slash-separated and relative to the tree's root;
 * symlinks are resolved inside the root (`/` is the root, `..` stops there), as in a chroot, so no
 * source can name a host file outside it.
 */
export interface SourceEntry {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  sizeBytes: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkTarget?: string;
  /** Where the bytes are on the host. */
  hostPath: string;
}

export interface SourceTree {
  /** The entry at a path (not following a final symlink), or undefined when absent or excluded. */
  stat(path: string): SourceEntry | undefined;
  /** Names in a directory, sorted. */
  list(dir: string): string[];
  /** The path with every symlink resolved inside the root, or undefined when it does not exist. */
  resolve(path: string): string | undefined;
  /** Whether owners are kept (stages) or reset to root (the context). */
  keepOwners: boolean;
}

const MAX_HOPS = 40;

/** Splits a path into clean components, `..` popping (never above the root). */
export function pathParts(path: string): string[] {
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return out;
}

function lstatEntry(hostPath: string): SourceEntry | undefined {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(hostPath);
  } catch {
    return undefined;
  }
  const type = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other';
  const e: SourceEntry = {
    type,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    sizeBytes: st.isFile() ? st.size : 0,
    mtime: Math.floor(st.mtimeMs / 1000),
    hostPath,
  };
  if (type === 'symlink') e.linkTarget = readlinkSync(hostPath);
  return e;
}

/** Resolves symlinks in `parts` inside a tree; `followLast` also resolves the final component. */
function resolveIn(tree: Pick<SourceTree, 'stat'>, path: string, followLast: boolean): string | undefined {
  const queue = pathParts(path);
  const cur: string[] = [];
  let hops = 0;
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (c === '..') {
      cur.pop();
      continue;
    }
    if (c === '.' || c === '') continue;
    const next = [...cur, c].join('/');
    const st = tree.stat(next);
    if (!st) return undefined;
    if (st.type === 'symlink' && (queue.length > 0 || followLast)) {
      if (++hops > MAX_HOPS)
        throw new HyprError('BUILD_SYMLINK_LOOP', `too many levels of symbolic links resolving "${path}"`);
      if (st.linkTarget!.startsWith('/')) cur.length = 0;
      queue.unshift(...st.linkTarget!.split('/'));
      continue;
    }
    cur.push(c);
  }
  return cur.join('/');
}

/** A host directory seen as a tree: a stage's filesystem, an unpacked image. */
export function createDirSourceTree(root: string): SourceTree {
  const tree: SourceTree = {
    keepOwners: true,
    stat: (path) => {
      const parts = pathParts(path);
      // Parents are resolved so that `a/link/b` reads inside the root.
      if (parts.length > 1) {
        const parent = resolveIn(tree, parts.slice(0, -1).join('/'), true);
        if (parent === undefined) return undefined;
        return lstatEntry(join(root, parent, parts[parts.length - 1]));
      }
      return lstatEntry(join(root, ...parts));
    },
    list: (dir) => {
      const r = resolveIn(tree, dir, true);
      if (r === undefined) return [];
      try {
        return readdirSync(join(root, r)).sort();
      } catch {
        return [];
      }
    },
    resolve: (path) => resolveIn(tree, path, true),
  };
  return tree;
}

/**
 * The build context: only `files` (readBuildContext's list, after .dockerignore) exist. A directory
 * that .dockerignore removed but whose children it re-included still exists as a parent.
 */
export function createContextSourceTree(root: string, files: readonly ContextFile[]): SourceTree {
  const byPath = new Map<string, ContextFile>();
  const children = new Map<string, Set<string>>();
  const addChild = (path: string) => {
    const parts = path.split('/');
    for (let i = 0; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      const set = children.get(parent) ?? new Set<string>();
      set.add(parts[i]);
      children.set(parent, set);
    }
  };
  for (const f of files) {
    byPath.set(f.path, f);
    addChild(f.path);
  }
  const statRaw = (path: string): SourceEntry | undefined => {
    const p = pathParts(path).join('/');
    if (p !== '' && !byPath.has(p) && !children.has(p)) return undefined;
    const e = lstatEntry(join(root, p));
    if (!e) return undefined;
    return { ...e, uid: 0, gid: 0 };
  };
  const tree: SourceTree = {
    keepOwners: false,
    stat: (path) => {
      const parts = pathParts(path);
      if (parts.length > 1) {
        const parent = resolveIn({ stat: statRaw }, parts.slice(0, -1).join('/'), true);
        if (parent === undefined) return undefined;
        return statRaw(parent === '' ? parts[parts.length - 1] : `${parent}/${parts[parts.length - 1]}`);
      }
      return statRaw(parts.join('/'));
    },
    list: (dir) => {
      const r = resolveIn({ stat: statRaw }, dir, true);
      if (r === undefined) return [];
      return [...(children.get(r) ?? [])].sort();
    },
    resolve: (path) => resolveIn({ stat: statRaw }, path, true),
  };
  return tree;
}

/** Go's path.Match for one path segment, as a RegExp. */
export function segmentPattern(glob: string): RegExp {
  let re = '^';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '\\' && i + 1 < glob.length) re += escapeRe(glob[++i]);
    else if (ch === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = glob.slice(i + 1, end);
        if (body.startsWith('^') || body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\(?!.)/g, '\\\\')}]`;
        i = end;
      }
    } else re += escapeRe(ch);
  }
  return new RegExp(`${re}$`);
}

function escapeRe(ch: string): string {
  return /[.+()|^${}[\]\\*?]/.test(ch) ? `\\${ch}` : ch;
}

export function hasGlob(path: string): boolean {
  return /[*?[]/.test(path);
}

/** The paths a COPY source names: itself, or every match of its wildcards (sorted). */
export function matchSource(tree: SourceTree, source: string): string[] {
  const parts = pathParts(source);
  if (!hasGlob(source)) {
    const p = parts.join('/');
    return p === '' || tree.stat(p) ? [p] : [];
  }
  let current: string[] = [''];
  for (const part of parts) {
    const next: string[] = [];
    for (const base of current) {
      if (!hasGlob(part)) {
        const p = base === '' ? part : `${base}/${part}`;
        if (tree.stat(p)) next.push(p);
        continue;
      }
      const re = segmentPattern(part);
      for (const name of tree.list(base)) if (re.test(name)) next.push(base === '' ? name : `${base}/${name}`);
    }
    current = next;
  }
  return current.sort();
}
