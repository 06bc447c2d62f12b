/**
 * Phase 1: YAML to plain values, keeping what later phases need from the syntax tree: the line of each
 * key path (for error messages) and the `!reset` / `!override` tags (for merging). A file may hold
 * several documents (`---`): each is a source of its own, merged in order as compose-go does.
 *
 * Problems YAML itself lets through are caught here with their line, before any value is built:
 * aliases to a missing anchor or to a node that contains them (a cycle), merge keys (`<<`) whose
 * value is not a mapping, keys that are not strings (compose-go refuses them), and nesting deeper
 * than any compose file needs. Plain integers are read as Go's YAML reads them (`0440` is octal,
 * `0b11` binary, `1_000` a thousand), since file modes are written that way.
 */
import {
  type Document,
  LineCounter,
  type Node,
  type Pair,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseAllDocuments,
} from 'yaml';
import { type ComposeProblem, joinPath } from './errors.js';
import { findDeepNesting } from './yaml-depth.js';

export type MergeTag = 'reset' | 'override';

export interface YamlSource {
  file: string;
  value: unknown;
  /** Line (1-based) of each key path present in the text, keyed by joinPath(). */
  lines: Map<string, number>;
  /** Key paths carrying `!reset` or `!override`. */
  tags: Map<string, MergeTag>;
}

/** Deeper values are refused: no compose file needs them, and every later phase recurses. */
export const MAX_DEPTH = 100;
/** The text-level estimate (yaml-depth.ts) that keeps the yaml parser from recursing out of stack. */
const MAX_TEXT_DEPTH = 2 * MAX_DEPTH;
const tooDeep = `values are nested more than ${MAX_DEPTH} levels deep`;
const tooDeepHint = 'no compose file needs this; the file is likely broken or generated wrongly';
const MAX_ALIAS_COUNT = 10_000;

/** Go's strconv.ParseInt(s, 0, 64) after go-yaml drops the underscores. */
const GO_INT = /^[-+]?(?:0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[1-9][0-9]*|0)$/;

function goInt(source: string): number | undefined {
  const plain = source.replaceAll('_', '');
  if (!/^[-+]?[0-9]/.test(plain) || !GO_INT.test(plain)) return undefined;
  const sign = plain.startsWith('-') ? -1 : 1;
  const digits = plain.replace(/^[-+]/, '');
  let n: number;
  if (/^0[xX]/.test(digits)) n = Number.parseInt(digits.slice(2), 16);
  else if (/^0[bB]/.test(digits)) n = Number.parseInt(digits.slice(2), 2);
  else if (/^0[oO]/.test(digits)) n = Number.parseInt(digits.slice(2), 8);
  else if (digits.length > 1 && digits.startsWith('0')) n = Number.parseInt(digits.slice(1), 8);
  else n = Number.parseInt(digits, 10);
  return Number.isSafeInteger(n) ? sign * n : undefined;
}

/** How a key prints in messages, as Go's %#v would: strings quoted, other scalars as written. */
function describeKey(key: unknown): string {
  if (isScalar(key)) return key.value === null ? '<nil>' : String(key.value);
  return isAlias(key) ? `*${key.source}` : 'a collection';
}

interface WalkState {
  doc: Document;
  file: string;
  /** How many levels each collection walked so far holds (aliases counted as what they repeat). */
  heights: Map<Node, number>;
  lineOf: (node: { range?: [number, number, number] | null } | null | undefined) => number | undefined;
  lines: Map<string, number>;
  tags: Map<string, MergeTag>;
  problems: ComposeProblem[];
}

function problem(
  state: WalkState,
  path: (string | number)[],
  line: number | undefined,
  message: string,
  hint?: string,
) {
  state.problems.push({ path: joinPath(path), file: state.file, line, message, hint });
}

/** Checks a merge key's value: a mapping, an alias of one, or a list of those. */
function checkMergeValue(state: WalkState, pair: Pair, path: (string | number)[]): void {
  const isMapLike = (n: unknown): boolean => isMap(n) || (isAlias(n) && isMap(n.resolve(state.doc)));
  const value = pair.value;
  if (isMapLike(value) || (isSeq(value) && value.items.every(isMapLike))) return;
  problem(
    state,
    path,
    state.lineOf(pair.key as Node),
    'map merge requires map or sequence of maps as the value',
    'a "<<" key merges the keys of a mapping (or of a list of mappings) into this one',
  );
}

/**
 * Checks one node and what it holds; returns its height (levels of collections in it, what aliases
 * repeat included: an alias of a 90-deep value placed 20 deep makes a 110-deep value).
 */
function walk(state: WalkState, node: unknown, path: (string | number)[], ancestors: Node[]): number {
  if (!node) return 0;
  if (isAlias(node)) {
    const target = node.resolve(state.doc);
    const line = state.lineOf(node);
    if (!target)
      problem(
        state,
        path,
        line,
        `unknown anchor '${node.source}' referenced`,
        'define the anchor (&name) before using it',
      );
    else if (ancestors.includes(target)) {
      problem(
        state,
        path,
        line,
        `alias *${node.source} refers to a value that contains it`,
        'an alias cannot repeat the value it is part of',
      );
    } else {
      const height = state.heights.get(target) ?? 0;
      if (ancestors.length + height > MAX_DEPTH) problem(state, path, line, `${tooDeep} (through *${node.source})`);
      return height;
    }
    return 0;
  }
  const n = node as Node;
  if (ancestors.length >= MAX_DEPTH) {
    problem(state, path, state.lineOf(n), tooDeep, tooDeepHint);
    return 0;
  }
  if (n.tag === '!reset' || n.tag === '!override')
    state.tags.set(joinPath(path), n.tag === '!reset' ? 'reset' : 'override');
  if (isScalar(n)) {
    if (n.type === 'PLAIN' && typeof n.source === 'string') {
      const int = goInt(n.source);
      if (int !== undefined) n.value = int;
    }
    return 0;
  }
  const inner = [...ancestors, n];
  let below = 0;
  if (isMap(n)) {
    for (const pair of n.items) {
      if (!isPair(pair)) continue;
      const raw = isScalar(pair.key) ? pair.key.value : undefined;
      // With merge keys on, the yaml library reads a plain `<<` key as a symbol.
      if (typeof raw === 'symbol' || (raw === '<<' && isScalar(pair.key) && pair.key.type === 'PLAIN')) {
        checkMergeValue(state, pair, path);
        // What it merges is checked as well (aliases, depth: counted a level or two high, never low).
        below = Math.max(below, walk(state, pair.value, path, inner));
        continue;
      }
      if (typeof raw !== 'string') {
        const where = path.length === 0 ? 'at top level' : `in ${joinPath(path)}`;
        problem(
          state,
          path,
          state.lineOf(pair.key as Node),
          `non-string key ${where}: ${describeKey(pair.key)}`,
          'quote the key',
        );
        continue;
      }
      const p = [...path, raw];
      const line = state.lineOf(pair.key as Node);
      if (line !== undefined) state.lines.set(joinPath(p), line);
      below = Math.max(below, walk(state, pair.value, p, inner));
    }
  } else if (isSeq(n)) {
    n.items.forEach((item, i) => {
      const p = [...path, i];
      const line = state.lineOf(item as Node);
      if (line !== undefined) state.lines.set(joinPath(p), line);
      below = Math.max(below, walk(state, item, p, inner));
    });
  }
  state.heights.set(n, below + 1);
  return below + 1;
}

/** Parses compose YAML, one source per document; syntax and structure problems come back with their line. */
export function parseComposeYaml(text: string, file: string): { sources: YamlSource[]; problems: ComposeProblem[] } {
  const deepLine = findDeepNesting(text, MAX_TEXT_DEPTH);
  if (deepLine !== undefined)
    return { sources: [], problems: [{ path: '', file, line: deepLine, message: tooDeep, hint: tooDeepHint }] };
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { merge: true, uniqueKeys: true, lineCounter, prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [];
  const problems: ComposeProblem[] = [];
  for (const doc of list) {
    for (const e of doc.errors) {
      problems.push({
        path: '',
        file,
        line: e.linePos?.[0].line,
        message: e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, ''),
        hint: e.code === 'DUPLICATE_KEY' ? 'each key may appear once in a mapping' : undefined,
      });
    }
  }
  if (problems.length > 0) return { sources: [], problems };
  const lineOf = (node: { range?: [number, number, number] | null } | null | undefined) =>
    node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
  const sources: YamlSource[] = [];
  for (const doc of list) {
    const state: WalkState = { doc, file, heights: new Map(), lineOf, lines: new Map(), tags: new Map(), problems };
    walk(state, doc.contents, [], []);
    if (problems.length > 0) continue;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
    } catch (e) {
      problems.push({ path: '', file, line: lineOf(doc.contents), message: (e as Error).message });
      continue;
    }
    sources.push({ file, value, lines: state.lines, tags: state.tags });
  }
  return problems.length > 0 ? { sources: [], problems } : { sources, problems };
}

/** The line of `path` or of its nearest ancestor present in the text. */
export function findLine(lines: Map<string, number>, path: string): number | undefined {
  let p = path;
  for (;;) {
    const line = lines.get(p);
    if (line !== undefined) return line;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    if (cut <= 0) return undefined;
    p = p.slice(0, cut);
  }
}
