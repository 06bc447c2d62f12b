/**
 * How deep a YAML text nests, read from the text alone, before the yaml library parses it: its parser
 * recurses once per level and overflows the stack at about a thousand levels (a RangeError, no line),
 * before any check on its result can run. The estimate counts a level for each indentation step, each
 * `- ` or `? ` indicator and each flow bracket; quoted scalars, comments and block scalars (`|`, `>`)
 * are skipped. It errs on the high side (a continuation line of a plain scalar counts as a level), so
 * its limit is well above the precise check made on the parsed tree (yaml-source.ts, MAX_DEPTH).
 */

/** Indicators that open a node on the same line when followed by a blank (block context). */
const BLOCK_INDICATORS = new Set(['-', '?', ':']);

interface ScanState {
  /** Indentation of the open block levels, innermost last. */
  indents: number[];
  flow: number;
  quote: '"' | "'" | undefined;
  /** When set, lines indented more than this are a block scalar's content. */
  blockScalarIndent: number | undefined;
}

const blankAt = (line: string, i: number) => i >= line.length || line[i] === ' ' || line[i] === '\t';

/** Scans one line; returns the deepest level it reaches. */
function scanLine(s: ScanState, line: string, start: number): number {
  let extra = 0; // compact levels opened on this line (`- - x`, `? x`)
  let deepest = s.indents.length + s.flow;
  let nodeStart = s.quote === undefined;
  for (let i = start; i < line.length; i++) {
    const c = line[i];
    if (s.quote !== undefined) {
      if (s.quote === '"' && c === '\\') i++;
      else if (c === s.quote && s.quote === "'" && line[i + 1] === "'") i++;
      else if (c === s.quote) s.quote = undefined;
      continue;
    }
    if (c === '#' && (i === 0 || line[i - 1] === ' ' || line[i - 1] === '\t')) break;
    if (c === ' ' || c === '\t') continue;
    if ((c === '[' || c === '{') && (nodeStart || s.flow > 0)) {
      s.flow++;
      nodeStart = true;
    } else if (s.flow > 0 && (c === ']' || c === '}')) {
      s.flow--;
      nodeStart = false;
    } else if (s.flow > 0 && (c === ',' || c === ':')) {
      nodeStart = true;
    } else if (s.flow === 0 && BLOCK_INDICATORS.has(c) && blankAt(line, i + 1)) {
      if (c !== ':') extra++;
      nodeStart = true;
    } else if (nodeStart && (c === '"' || c === "'")) {
      s.quote = c;
      nodeStart = false;
    } else if (nodeStart && s.flow === 0 && (c === '|' || c === '>')) {
      s.blockScalarIndent = start;
      break;
    } else if (nodeStart && (c === '&' || c === '!')) {
      while (i + 1 < line.length && !blankAt(line, i + 1)) i++; // an anchor or a tag: the node follows
    } else {
      nodeStart = false;
    }
    deepest = Math.max(deepest, s.indents.length + extra + s.flow);
  }
  return deepest;
}

/**
 * The first line (1-based) at which `text` nests more than `limit` levels by the estimate above, or
 * undefined when it stays within.
 */
export function findDeepNesting(text: string, limit: number): number | undefined {
  const s: ScanState = { indents: [], flow: 0, quote: undefined, blockScalarIndent: undefined };
  const lines = text.split(/\r\n|\r|\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    let start = 0;
    if (s.quote === undefined && s.flow === 0) {
      while (line[start] === ' ') start++;
      if (start === line.length || line[start] === '#') continue;
      if (s.blockScalarIndent !== undefined && start > s.blockScalarIndent) continue;
      s.blockScalarIndent = undefined;
      while (s.indents.length > 0 && s.indents[s.indents.length - 1] >= start) s.indents.pop();
      s.indents.push(start);
    }
    if (scanLine(s, line, start) > limit) return n + 1;
  }
  return undefined;
}
