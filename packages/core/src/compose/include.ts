/**
 * `include:` as compose-go's loader/include.go applies it (compose v2.20 and later). Each entry names
 * one or more files (the first is the included project, the others override it), resolved against the
 * including project's directory; the included project's own directory is `project_directory`, else the
 * directory of its first file, and its relative paths resolve there. Its interpolation environment is
 * the including one, plus what its `env_file`s (or its own `.env`) define and the including one does
 * not. Resources it defines join the including file's; on a name both define, the including file's
 * definition is merged over the included one (with its `!reset`/`!override` tags), and an earlier
 * include wins over a later one. A file that includes itself, directly or not, is an include cycle.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type ComposeProblem, ComposeValidationError } from './errors.js';
import type { VariableLookup } from './interpolate.js';
import type { ComposeLayer, LayerDocument } from './layer-types.js';
import { readDotenvFiles, unreadableReason } from './locate.js';
import { emptyLayer, mergeLayers } from './merge.js';
import type { MergeTag } from './yaml-source.js';

/** What include needs of the layer loader (layers.ts), named here so the two do not import each other. */
export interface IncludeLoader {
  readonly problems: { add(problem: ComposeProblem): void };
  report(file: string, path: string, message: string, hint?: string): void;
  loadFile(file: string, baseDir: string, lookup: VariableLookup, chain: readonly string[]): LayerDocument[];
}

export interface IncludeContext {
  loader: IncludeLoader;
  /** The including file, and the directory its relative paths resolve against. */
  file: string;
  baseDir: string;
  lookup: VariableLookup;
  /** The including files, outermost first. */
  chain: readonly string[];
}

interface IncludeSpec {
  path: string | string[];
  env_file?: string | string[];
  project_directory?: string;
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : typeof v === 'string' ? [v] : v);

/** Loads every include of a document and returns the document's layer merged over them. */
export function applyIncludes(
  ctx: IncludeContext,
  includes: readonly unknown[],
  layer: ComposeLayer,
  tags: Map<string, MergeTag>,
): ComposeLayer {
  let imported: ComposeLayer | undefined;
  includes.forEach((entry, i) => {
    const spec: IncludeSpec = typeof entry === 'string' ? { path: entry } : (entry as IncludeSpec);
    const one = loadInclude(ctx, spec, `include[${i}]`);
    if (!one) return;
    // On a name two includes define, the earlier one is merged over the later.
    imported = imported === undefined ? one : mergeLayers(one, imported, new Map());
  });
  if (imported === undefined) return layer;
  return mergeLayers(imported, layer, tags);
}

function loadInclude(ctx: IncludeContext, spec: IncludeSpec, at: string): ComposeLayer | undefined {
  const { loader, file } = ctx;
  const paths = list(spec.path).map((p) => resolve(ctx.baseDir, p));
  if (paths.length === 0) {
    loader.report(file, `${at}.path`, 'names no file', 'give the path of the compose file to include');
    return undefined;
  }
  for (const [k, p] of paths.entries()) {
    const why = unreadableReason(p);
    if (why) {
      loader.report(file, typeof spec.path === 'string' ? at : `${at}.path[${k}]`, `included file ${p} ${why}`);
      return undefined;
    }
  }
  if (ctx.chain.includes(paths[0])) {
    const cycle = [...ctx.chain.slice(ctx.chain.indexOf(paths[0])), paths[0]];
    loader.report(file, at, `include cycle detected:\n${cycle[0]}\n include ${cycle.slice(1).join('\n include ')}`);
    return undefined;
  }
  const projectDir = spec.project_directory ? resolve(ctx.baseDir, spec.project_directory) : dirname(paths[0]);
  const lookup = includeEnvironment(ctx, spec, projectDir, at);
  if (!lookup) return undefined;
  let merged = emptyLayer();
  try {
    for (const p of paths) {
      for (const d of loader.loadFile(p, projectDir, lookup, ctx.chain)) merged = mergeLayers(merged, d.layer, d.tags);
    }
  } catch (e) {
    if (!(e instanceof ComposeValidationError)) throw e;
    for (const p of e.problems) loader.problems.add(p);
    return undefined;
  }
  // Only resources come in: the included project's name and extensions stay its own.
  const out: ComposeLayer = { ...merged, name: undefined, extensions: {}, services: structuredClone(merged.services) };
  resolveBareEnvironment(out, lookup);
  return out;
}

/** The included project's variables: the including ones, then its env files' for names not set yet. */
function includeEnvironment(
  ctx: IncludeContext,
  spec: IncludeSpec,
  projectDir: string,
  at: string,
): VariableLookup | undefined {
  let files = list(spec.env_file)
    .filter((f) => f !== '/dev/null')
    .map((f) => resolve(ctx.baseDir, f));
  if (spec.env_file === undefined) {
    const dotenv = join(projectDir, '.env');
    files = existsSync(dotenv) && unreadableReason(dotenv) === undefined ? [dotenv] : [];
  }
  for (const f of files) {
    const why = unreadableReason(f);
    if (why) {
      ctx.loader.report(ctx.file, `${at}.env_file`, `env file ${f} ${why}`);
      return undefined;
    }
  }
  let fromFiles: Record<string, string>;
  try {
    fromFiles = readDotenvFiles(files, ctx.lookup, true);
  } catch (e) {
    if (!(e instanceof ComposeValidationError)) throw e;
    for (const p of e.problems) ctx.loader.problems.add(p);
    return undefined;
  }
  return (name) => ctx.lookup(name) ?? fromFiles[name];
}

/** `environment: [KEY]` entries of included services take KEY from the included project's variables. */
function resolveBareEnvironment(layer: ComposeLayer, lookup: VariableLookup): void {
  for (const svc of Object.values(layer.services)) {
    for (const [k, v] of Object.entries(svc.environment ?? {})) {
      if (v !== null) continue;
      const found = lookup(k);
      if (found !== undefined) svc.environment![k] = found;
    }
  }
}
