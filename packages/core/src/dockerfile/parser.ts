import { type ErrorCode, suggest } from '../errors.js';
import { DockerfileError } from './errors.js';
import {
  type DockerfileDirective,
  type DockerfileDirectives,
  type DockerfileHeredoc,
  type LexOptions,
  lexDockerfile,
  readJsonArray,
} from './lexer.js';
import { extractFlags, splitWhitespace, splitWords } from './words.js';

export { extractFlags, splitWords } from './words.js';

/**
 * Phase 2 of the parse: each logical line → an AST node that keeps its lines. The keyword is
 * checked (unknown → error with a did-you-mean), `--flags` are split off the front as BuildKit's
 * extractBuilderFlags does, and the arguments are split per instruction (exec form, whitespace
 * words, key=value pairs …). Nothing is expanded yet: quotes and `$VAR` stay as written.
 */

export const DOCKERFILE_KEYWORDS = [
  'ADD',
  'ARG',
  'CMD',
  'COPY',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'FROM',
  'HEALTHCHECK',
  'LABEL',
  'MAINTAINER',
  'ONBUILD',
  'RUN',
  'SHELL',
  'STOPSIGNAL',
  'USER',
  'VOLUME',
  'WORKDIR',
] as const;

export type DockerfileKeyword = (typeof DOCKERFILE_KEYWORDS)[number];

/** A flag as written: `--from=build` → { name: 'from', value: 'build' }; `--link` → value undefined. */
export interface DockerfileFlag {
  name: string;
  value: string | undefined;
}

/** ENV/LABEL pair as written (quotes kept until expansion). */
export interface DockerfileKeyValue {
  key: string;
  value: string;
}

export interface DockerfileNode {
  /** Upper-case keyword. */
  keyword: DockerfileKeyword;
  /** The keyword as written (casing kept, for the casing check). */
  rawKeyword: string;
  /** 1-based first and last line, and the column of the keyword. */
  line: number;
  endLine: number;
  column: number;
  flags: DockerfileFlag[];
  /**
   * Arguments, unexpanded. Exec form: the JSON strings. Shell form of RUN/CMD/ENTRYPOINT/SHELL and
   * single-string instructions: one element. FROM/EXPOSE/COPY/ADD/VOLUME/ARG: the words.
   * ENV/LABEL: see `pairs`. HEALTHCHECK: the command after CMD (or [] for NONE).
   */
  args: string[];
  /** true when the arguments were a JSON array (exec form). */
  json: boolean;
  /** ENV and LABEL. `legacy` is the `ENV key value` form. */
  pairs?: DockerfileKeyValue[];
  legacy?: boolean;
  /** HEALTHCHECK: CMD or NONE. */
  healthcheckType?: 'CMD' | 'NONE' | (string & {});
  /** HEALTHCHECK: the type word as written, when not upper-case. */
  healthcheckTypeRaw?: string;
  /** ONBUILD: the trigger instruction. */
  trigger?: DockerfileNode;
  heredocs: DockerfileHeredoc[];
  /** The logical line as joined (keyword included). */
  original: string;
}

export interface DockerfileAst {
  directives: DockerfileDirectives;
  directiveList: DockerfileDirective[];
  escapeToken: string;
  nodes: DockerfileNode[];
  /** Lines where empty continuation lines were skipped (a BuildKit warning). */
  emptyContinuationLines: number[];
}

interface Where {
  file: string | undefined;
  line: number;
  column: number;
}

function fail(code: ErrorCode, message: string, where: Where, hint?: string): never {
  throw new DockerfileError(code, message, where.file, where.line, where.column, hint);
}

function parseFlag(raw: string, where: Where): DockerfileFlag {
  const body = raw.startsWith('--') ? raw.slice(2) : raw;
  const eq = body.indexOf('=');
  const name = eq < 0 ? body : body.slice(0, eq);
  if (name === '') fail('DOCKERFILE_BAD_FLAG', `invalid flag "${raw}"`, where);
  return { name, value: eq < 0 ? undefined : body.slice(eq + 1) };
}

function parsePairs(keyword: string, rest: string, escapeToken: string, where: Where) {
  const words = splitWords(rest, escapeToken);
  if (words.length === 0) fail('DOCKERFILE_MISSING_ARGUMENT', `${keyword} requires at least one argument`, where);
  if (!words[0].includes('=')) {
    // Legacy `ENV key value with spaces`: everything after the first word is the value.
    const parts = /^(\S+)\s*([\s\S]*)$/.exec(rest.trim())!;
    if (parts[2].trim() === '') {
      fail(
        'DOCKERFILE_MISSING_ARGUMENT',
        `${keyword} must have two arguments`,
        where,
        `write ${keyword} ${parts[1]}=value`,
      );
    }
    return { pairs: [{ key: parts[1], value: parts[2].trim() }], legacy: true };
  }
  const pairs: DockerfileKeyValue[] = [];
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq < 0) {
      fail(
        'DOCKERFILE_SYNTAX',
        `Syntax error - can't find = in "${w}". Must be of the form: name=value`,
        where,
        'quote values that contain spaces: KEY="a value"',
      );
    }
    pairs.push({ key: w.slice(0, eq), value: w.slice(eq + 1) });
  }
  return { pairs, legacy: false };
}

/**
 * Arguments that may be a JSON array of strings (exec form), as BuildKit's parseMaybeJSON and
 * parseMaybeJSONToList: anything else is one string or whitespace-separated words, except a JSON array
 * holding something other than strings, which is an error.
 */
function readMaybeJson(node: DockerfileNode, text: string, where: Where, otherwise: 'string' | 'words'): void {
  const json = readJsonArray(text);
  if (json === 'not-strings') {
    fail('DOCKERFILE_SYNTAX', 'when using JSON array syntax, arrays must be comprised of strings only', where);
  }
  if (json) {
    node.args = json;
    node.json = true;
  } else if (otherwise === 'words') node.args = splitWhitespace(text);
  else if (text !== '') node.args = [text];
}

interface RawLine {
  text: string;
  heredocs: DockerfileHeredoc[];
  startLine: number;
  endLine: number;
  column: number;
}

function parseNode(raw: RawLine, escapeToken: string, where: Where, inOnbuild: boolean): DockerfileNode {
  const m = /^\s*(\S+)([\s\S]*)$/.exec(raw.text);
  if (!m) fail('DOCKERFILE_SYNTAX', 'empty instruction', where);
  const rawKeyword = m[1];
  const keyword = rawKeyword.toUpperCase();
  if (!(DOCKERFILE_KEYWORDS as readonly string[]).includes(keyword)) {
    const guess = suggest(rawKeyword, DOCKERFILE_KEYWORDS);
    fail(
      'DOCKERFILE_UNKNOWN_INSTRUCTION',
      `unknown instruction: ${rawKeyword}${guess ? ` (did you mean ${guess}?)` : ''}`,
      where,
      guess ? `write ${guess}` : `instructions are ${DOCKERFILE_KEYWORDS.join(', ')}`,
    );
  }
  const { rest, flags: flagWords } = extractFlags(m[2]);
  const node: DockerfileNode = {
    keyword: keyword as DockerfileKeyword,
    rawKeyword,
    line: raw.startLine,
    endLine: raw.endLine,
    column: raw.column,
    flags: flagWords.map((f) => parseFlag(f, where)),
    args: [],
    json: false,
    heredocs: [],
    original: raw.text,
  };
  const trimmed = rest.trim();
  switch (node.keyword) {
    case 'RUN':
    case 'CMD':
    case 'ENTRYPOINT':
    case 'SHELL':
      readMaybeJson(node, trimmed, where, 'string');
      break;
    case 'ADD':
    case 'COPY':
    case 'VOLUME':
      readMaybeJson(node, trimmed, where, 'words');
      break;
    case 'FROM':
    case 'EXPOSE':
      node.args = splitWhitespace(trimmed);
      break;
    case 'ARG':
      node.args = splitWords(trimmed, escapeToken);
      break;
    case 'ENV':
    case 'LABEL': {
      if (trimmed === '') fail('DOCKERFILE_MISSING_ARGUMENT', `${keyword} requires at least one argument`, where);
      const { pairs, legacy } = parsePairs(node.keyword, trimmed, escapeToken, where);
      node.pairs = pairs;
      node.legacy = legacy;
      node.args = pairs.flatMap((p) => [p.key, p.value]);
      break;
    }
    case 'USER':
    case 'WORKDIR':
    case 'STOPSIGNAL':
    case 'MAINTAINER':
      node.args = trimmed === '' ? [] : [trimmed];
      break;
    case 'HEALTHCHECK': {
      // BuildKit's parseHealthConfig: a type word (any, or none at all), then a command; whether the
      // type is known and the command present is checked by the instruction (at build time).
      const hm = /^(\S+)\s*([\s\S]*)$/.exec(trimmed);
      if (!hm) break;
      node.healthcheckType = hm[1].toUpperCase();
      if (node.healthcheckType !== hm[1]) node.healthcheckTypeRaw = hm[1];
      readMaybeJson(node, hm[2].trim(), where, 'string');
      break;
    }
    case 'ONBUILD': {
      if (inOnbuild) fail('DOCKERFILE_ONBUILD_TRIGGER', 'ONBUILD ONBUILD is not allowed', where);
      if (trimmed === '') fail('DOCKERFILE_MISSING_ARGUMENT', 'ONBUILD requires at least one argument', where);
      const trigger = parseNode({ ...raw, text: trimmed }, escapeToken, where, true);
      if (trigger.keyword === 'ONBUILD') fail('DOCKERFILE_ONBUILD_TRIGGER', 'ONBUILD ONBUILD is not allowed', where);
      if (trigger.keyword === 'FROM' || trigger.keyword === 'MAINTAINER') {
        fail('DOCKERFILE_ONBUILD_TRIGGER', `${trigger.keyword} isn't allowed as an ONBUILD trigger`, where);
      }
      node.trigger = trigger;
      node.args = [trimmed];
      break;
    }
  }
  if (!inOnbuild || node.keyword !== 'ONBUILD') node.heredocs = raw.heredocs;
  if (node.keyword === 'ONBUILD') node.heredocs = [];
  return node;
}

export interface ParseAstOptions extends LexOptions {}

/** Phases 1–2: text → AST (directives and nodes with lines). Throws DockerfileError. */
export function parseDockerfileAst(source: string, options: ParseAstOptions = {}): DockerfileAst {
  const lex = lexDockerfile(source, options);
  const nodes: DockerfileNode[] = [];
  const emptyContinuationLines: number[] = [];
  for (const l of lex.lines) {
    const where = { file: options.file, line: l.startLine, column: l.column };
    nodes.push(parseNode(l, lex.escapeToken, where, false));
    if (l.emptyContinuationLine) emptyContinuationLines.push(l.startLine);
  }
  return {
    directives: lex.directives,
    directiveList: lex.directiveList,
    escapeToken: lex.escapeToken,
    nodes,
    emptyContinuationLines,
  };
}
