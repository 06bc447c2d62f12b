/**
 * Phases 1–6 of the load, for every document of every file: parse the YAML (yaml-source.ts),
 * interpolate, validate against the schema, normalise, bring in `include:`d projects (include.ts),
 * resolve `extends` (extends.ts), then merge the documents and files in order (merge.ts). Problems are
 * collected with their file and line; a file that cannot be used at all ends the load at once.
 */
import { dirname } from 'node:path';
import { type ComposeProblem, ComposeValidationError, ProblemList, joinPath } from './errors.js';
import { type ExtendsSource, resolveExtends } from './extends.js';
import { type IncludeContext, applyIncludes } from './include.js';
import { type InterpolationProblem, type VariableLookup, interpolateTree } from './interpolate.js';
import type { ComposeLayer, LayerDocument } from './layer-types.js';
import { readComposeText } from './locate.js';
import { emptyLayer, mergeLayers } from './merge.js';
import { normalizeLayer } from './normalize.js';
import { validateComposeFile } from './schema.js';
import { type MergeTag, type YamlSource, findLine, parseComposeYaml } from './yaml-source.js';

/** One YAML document of a file, normalised. */
export type { LayerDocument } from './layer-types.js';

export class LayerLoader implements ExtendsSource {
  /** The documents of every file loaded, in load order. */
  readonly documents = new Map<string, LayerDocument[]>();
  readonly problems = new ProblemList();
  /** Variables substituted by an empty string. */
  readonly missing = new Set<string>();
  readonly warnings: string[] = [];

  constructor(private readonly lookup: VariableLookup) {}

  /** The line of a key path in a file (the first document holding it), for messages. */
  lineIn(file: string, path: string): number | undefined {
    for (const d of this.documents.get(file) ?? []) {
      const line = findLine(d.source.lines, path);
      if (line !== undefined) return line;
    }
    return undefined;
  }

  report(file: string, path: string, message: string, hint?: string): void {
    this.problems.add({ path, message, file, line: this.lineIn(file, path), hint });
  }

  /** Loads a file given with -f (relative paths against the project directory) and merges its documents. */
  loadTopFile(file: string, projectDir: string, into: ComposeLayer): ComposeLayer {
    let merged = into;
    for (const d of this.loadFile(file, projectDir, this.lookup, [])) merged = mergeLayers(merged, d.layer, d.tags);
    return merged;
  }

  /** The documents of a file merged, for `extends: {file: …}` (relative paths against the file's directory). */
  layerOf(file: string): { layer: ComposeLayer; tags: Map<string, MergeTag> } {
    const docs = this.loadFile(file, dirname(file), this.lookup, []);
    if (docs.length === 1) return { layer: docs[0].layer, tags: docs[0].tags };
    let layer = emptyLayer();
    for (const d of docs) layer = mergeLayers(layer, d.layer, d.tags);
    return { layer, tags: new Map() };
  }

  /**
   * Phases 1–5 for every document of a file, once per file: later calls get the same documents.
   * `chain` holds the files including this one, for include cycles.
   */
  loadFile(file: string, baseDir: string, lookup: VariableLookup, chain: readonly string[]): LayerDocument[] {
    const known = this.documents.get(file);
    if (known) return known;
    const parsed = parseComposeYaml(readComposeText(file, 'compose file'), file);
    if (parsed.problems.length > 0) throw new ComposeValidationError(parsed.problems);
    const sources =
      parsed.sources.length > 0 ? parsed.sources : [{ file, value: {}, lines: new Map(), tags: new Map() }];
    const docs: LayerDocument[] = [];
    this.documents.set(file, docs);
    const local: ComposeProblem[] = [];
    for (const source of sources) {
      const doc = this.loadDocument(source, baseDir, lookup, local);
      if (!doc) break;
      docs.push(doc.document);
      if (doc.include?.length) {
        const ctx: IncludeContext = { loader: this, file, baseDir, lookup, chain: [...chain, file] };
        doc.document.layer = applyIncludes(ctx, doc.include, doc.document.layer, doc.document.tags);
      }
      resolveExtends(file, doc.document.layer, doc.document.tags, this);
    }
    if (local.length > 0) {
      this.documents.delete(file);
      throw new ComposeValidationError(local);
    }
    return docs;
  }

  /** Phases 1–4 for one document; its problems go to `problems` (undefined when there are some). */
  private loadDocument(
    source: YamlSource,
    baseDir: string,
    lookup: VariableLookup,
    problems: ComposeProblem[],
  ): { document: LayerDocument; include?: unknown[] } | undefined {
    const { file } = source;
    // A plain object only: `!!binary`, `!!set` and `!!omap` make a Uint8Array, a Set or a Map.
    if (
      source.value === null ||
      typeof source.value !== 'object' ||
      Object.getPrototypeOf(source.value) !== Object.prototype
    ) {
      problems.push({ path: '', file, line: 1, message: 'top-level object must be a mapping' });
      return undefined;
    }
    const at = (path: (string | number)[], message: string, hint?: string) => {
      const p = joinPath(path);
      problems.push({ path: p, message, hint, file, line: findLine(source.lines, p) });
    };
    // `!reset` values are markers, not values: take them out before they are checked.
    const value = removeTagged(source.value as Record<string, unknown>, source.tags);
    const interpolationProblems: InterpolationProblem[] = [];
    const interpolated = interpolateTree(value, lookup, interpolationProblems, {
      onMissing: (name) => this.missing.add(name),
    });
    for (const p of interpolationProblems) at(p.path, p.message, p.hint);
    if (problems.length > 0) return undefined;
    const { data, issues } = validateComposeFile(interpolated);
    for (const i of issues) at(i.path, i.message, i.hint);
    if (problems.length > 0 || !data) return undefined;
    const layer = normalizeLayer(data, {
      baseDir,
      report: at,
      warn: (path, message) => this.warnings.push(`${file}: ${joinPath(path)}: ${message}`),
    });
    if (problems.length > 0) return undefined;
    if (data.version !== undefined) {
      const warning = `${file}: the attribute "version" is obsolete and ignored`;
      if (!this.warnings.includes(warning)) this.warnings.push(warning);
    }
    return { document: { file, source, layer, tags: source.tags }, include: data.include };
  }
}

/** Removes the values tagged `!reset` (the merge step uses the tags themselves). */
function removeTagged(value: Record<string, unknown>, tags: Map<string, MergeTag>): Record<string, unknown> {
  if (tags.size === 0) return value;
  const walk = (v: unknown, path: string): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const p = path ? `${path}.${k}` : k;
      if (tags.get(p) === 'reset') continue;
      out[k] = walk(x, p);
    }
    return out;
  };
  return walk(value, '') as Record<string, unknown>;
}
