/**
 * Phase 1: YAML to plain values, keeping what later phases need from the syntax tree: the line of each
 * key path (for error messages) and the `!reset` / `!override` tags (for merging).
 */
import { LineCounter, type Node, isAlias, isMap, isPair, isScalar, isSeq, parseDocument } from 'yaml';
import { type ComposeProblem, joinPath } from './errors.js';

export type MergeTag = 'reset' | 'override';

export interface YamlSource {
  file: string;
  value: unknown;
  /** Line (1-based) of each key path present in the text, keyed by joinPath(). */
  lines: Map<string, number>;
  /** Key paths carrying `!reset` or `!override`. */
  tags: Map<string, MergeTag>;
}

/** Parses compose YAML; syntax errors come back as problems with their line. */
export function parseComposeYaml(text: string, file: string): { source?: YamlSource; problems: ComposeProblem[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { merge: true, uniqueKeys: true, lineCounter, prettyErrors: true });
  const problems: ComposeProblem[] = doc.errors.map((e) => ({
    path: '',
    file,
    line: e.linePos?.[0].line,
    message: e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, ''),
    hint: e.code === 'DUPLICATE_KEY' ? 'each key may appear once in a mapping' : undefined,
  }));
  if (problems.length > 0) return { problems };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 10_000 }) ?? {};
  } catch (e) {
    return { problems: [{ path: '', file, message: (e as Error).message }] };
  }
  const lines = new Map<string, number>();
  const tags = new Map<string, MergeTag>();
  const lineOf = (node: { range?: [number, number, number] | null } | null | undefined) =>
    node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
  const walk = (node: unknown, path: (string | number)[]) => {
    if (!node || isAlias(node)) return;
    const n = node as Node;
    if (n.tag === '!reset' || n.tag === '!override')
      tags.set(joinPath(path), n.tag === '!reset' ? 'reset' : 'override');
    if (isMap(n)) {
      for (const pair of n.items) {
        if (!isPair(pair)) continue;
        const raw = isScalar(pair.key) ? pair.key.value : undefined;
        if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') continue;
        const key = String(raw);
        if (key === '<<') continue;
        const p = [...path, key];
        const line = lineOf(pair.key as Node);
        if (line !== undefined) lines.set(joinPath(p), line);
        walk(pair.value, p);
      }
    } else if (isSeq(n)) {
      n.items.forEach((item, i) => {
        const p = [...path, i];
        const line = lineOf(item as Node);
        if (line !== undefined) lines.set(joinPath(p), line);
        walk(item, p);
      });
    }
  };
  walk(doc.contents, []);
  return { source: { file, value, lines, tags }, problems: [] };
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
