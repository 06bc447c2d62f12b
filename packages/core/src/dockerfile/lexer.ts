import { DockerfileError } from './errors.js';
import { expandWord } from './expand.js';

/**
 * Phase 1 of the parse: physical lines → logical lines, as BuildKit's parser.Parse reads them.
 * It strips a UTF-8 BOM and CR line ends, reads parser directives at the top, drops comments and
 * blank lines, joins continuations (comment lines inside a continuation are skipped, empty ones are
 * skipped with a warning) and, for RUN/COPY/ADD, reads heredoc bodies that follow the line.
 */

export interface DockerfileDirectives {
  syntax?: string;
  escape?: string;
  check?: string;
}

/** A directive as written, with its line, for tools that want to print or lint them. */
export interface DockerfileDirective {
  name: 'syntax' | 'escape' | 'check';
  value: string;
  line: number;
}

export interface DockerfileHeredoc {
  /** The delimiter word, quotes removed. */
  name: string;
  /** false when the delimiter was quoted: the body is taken literally. */
  expand: boolean;
  /** `<<-`: leading tabs are stripped from the body and the terminator. */
  chomp: boolean;
  /** File descriptor prefix, `3<<EOF` → 3; 0 when absent. */
  fd: number;
  /** The body with a `\n` after each line (tabs already stripped when chomp). */
  content: string;
  /** Line of the first body line. */
  line: number;
}

export interface LogicalLine {
  /** The instruction text with continuations joined and the escape tokens before newlines removed. */
  text: string;
  /** 1-based line of the first physical line. */
  startLine: number;
  /** 1-based line of the last physical line (heredoc terminators included). */
  endLine: number;
  /** 1-based column of the keyword. */
  column: number;
  heredocs: DockerfileHeredoc[];
  /** Set when empty lines were skipped inside a continuation. */
  emptyContinuationLine: boolean;
}

export interface LexResult {
  directives: DockerfileDirectives;
  directiveList: DockerfileDirective[];
  escapeToken: string;
  lines: LogicalLine[];
}

export interface LexOptions {
  file?: string;
}

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const KNOWN_DIRECTIVES = new Set(['syntax', 'escape', 'check']);
const HEREDOC_INSTRUCTIONS = new Set(['RUN', 'COPY', 'ADD']);
const HEREDOC_WORD = /^(\d*)<<(-?)([^<]*)$/;

function trimLeft(s: string): string {
  let i = 0;
  while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  return i === 0 ? s : s.slice(i);
}

function isComment(line: string): boolean {
  return trimLeft(line).startsWith('#');
}

/** Splits the source into physical lines without their `\n` or `\r\n`. */
export function splitPhysicalLines(source: string): string[] {
  let text = source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;
  if (text.endsWith('\n')) text = text.slice(0, -1);
  if (text === '') return [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.endsWith('\r')) lines[i] = l.slice(0, -1);
  }
  return lines;
}

/**
 * Removes a trailing escape token (and the blanks after it); reports whether the line ends there.
 * As BuildKit's `([^\\])\\[ \t]*$|^\\[ \t]*$`: an escape preceded by another escape (`\\`, an escaped
 * backslash, docker/for-win#5254) is not a continuation, nor is a longer run of them.
 */
function trimContinuation(line: string, escapeToken: string): { text: string; end: boolean } {
  let i = line.length;
  while (i > 0 && (line[i - 1] === ' ' || line[i - 1] === '\t')) i--;
  if (i > 0 && line[i - 1] === escapeToken && (i === 1 || line[i - 2] !== escapeToken)) {
    return { text: line.slice(0, i - 1), end: false };
  }
  return { text: line, end: true };
}

function readDirectives(lines: string[], file: string | undefined): { list: DockerfileDirective[]; count: number } {
  const list: DockerfileDirective[] = [];
  const seen = new Set<string>();
  let i = 0;
  for (; i < lines.length; i++) {
    const m = DIRECTIVE.exec(lines[i].trim());
    if (!m) break;
    const name = m[1].toLowerCase();
    if (!KNOWN_DIRECTIVES.has(name)) break;
    if (seen.has(name)) {
      throw new DockerfileError(
        'DOCKERFILE_DUPLICATE_DIRECTIVE',
        `only one ${name} parser directive can be used`,
        file,
        i + 1,
        1,
        'remove the repeated directive line',
      );
    }
    seen.add(name);
    const value = m[2];
    if (name === 'escape' && value !== '\\' && value !== '`') {
      throw new DockerfileError(
        'DOCKERFILE_INVALID_ESCAPE',
        `invalid escape token '${value}' does not match \` or \\`,
        file,
        i + 1,
        1,
        'write "# escape=\\" or "# escape=`"',
      );
    }
    list.push({ name: name as DockerfileDirective['name'], value, line: i + 1 });
  }
  return { list, count: i };
}

/** The keyword of a logical line (its first word) and, for ONBUILD, the keyword after it. */
function heredocKeyword(text: string): { keyword: string; rest: string } {
  const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(text);
  if (!m) return { keyword: '', rest: '' };
  const keyword = m[1].toUpperCase();
  if (keyword === 'ONBUILD') return heredocKeyword(m[2]);
  return { keyword, rest: m[2] };
}

/**
 * The arguments (after flags) as a JSON array of strings (exec form); 'not-strings' for a JSON array
 * holding anything else; undefined when the text is not a JSON array.
 */
export function readJsonArray(rest: string): string[] | 'not-strings' | undefined {
  const t = rest.trimStart();
  if (!t.startsWith('[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  return value.every((v) => typeof v === 'string') ? (value as string[]) : 'not-strings';
}

/** Whether args (after flags) are in JSON (exec) form: a JSON array of strings. */
export function parseJsonArray(rest: string): string[] | undefined {
  const json = readJsonArray(rest);
  return Array.isArray(json) ? json : undefined;
}

/** The text after leading `--flag` words (same rules as extractBuilderFlags). */
export function skipFlags(rest: string): string {
  let i = 0;
  for (;;) {
    while (i < rest.length && /\s/.test(rest[i])) i++;
    if (!(rest[i] === '-' && rest[i + 1] === '-')) return rest.slice(i);
    const start = i;
    let quote = '';
    for (; i < rest.length; i++) {
      const ch = rest[i];
      if (quote) {
        if (ch === quote) quote = '';
        else if (ch === '\\') i++;
      } else if (ch === '"' || ch === "'") quote = ch;
      else if (ch === '\\') i++;
      else if (/\s/.test(ch)) break;
    }
    if (rest.slice(start, i) === '--') return rest.slice(i);
  }
}

interface HeredocHeader {
  name: string;
  expand: boolean;
  chomp: boolean;
  fd: number;
}

function parseHeredocWord(word: string): HeredocHeader | undefined {
  const m = HEREDOC_WORD.exec(word);
  if (!m || m[3].length === 0) return undefined;
  const rest = m[3];
  let plain: string[];
  let raw: string[];
  try {
    plain = expandWord(rest, new Map()).words;
    raw = expandWord(rest, new Map(), { rawQuotes: true }).words;
  } catch {
    return undefined;
  }
  if (plain.length !== 1 || raw.length !== 1) return undefined;
  return {
    name: plain[0],
    expand: !/["']/.test(raw[0]),
    chomp: m[2] === '-',
    fd: m[1] ? Number.parseInt(m[1], 10) : 0,
  };
}

/** The heredocs a line opens, in order (`RUN <<A cat <<-"B"` → A, B). */
export function findHeredocs(text: string): HeredocHeader[] {
  let words: string[];
  try {
    words = expandWord(text, new Map(), { rawQuotes: true, rawEscapes: true }).words;
  } catch {
    return [];
  }
  const out: HeredocHeader[] = [];
  for (const w of words) {
    if (!w.includes('<<')) continue;
    const h = parseHeredocWord(w);
    if (h) out.push(h);
  }
  return out;
}

function stripLeadingTabs(s: string): string {
  let i = 0;
  while (i < s.length && s[i] === '\t') i++;
  return s.slice(i);
}

/** Phase 1: see the module comment. Throws DockerfileError for bad directives and unterminated heredocs. */
export function lexDockerfile(source: string, options: LexOptions = {}): LexResult {
  const file = options.file;
  const physical = splitPhysicalLines(source);
  const { list, count } = readDirectives(physical, file);
  const directives: DockerfileDirectives = {};
  for (const d of list) directives[d.name] = d.value;
  const escapeToken = directives.escape ?? '\\';
  const lines: LogicalLine[] = [];

  let i = count;
  while (i < physical.length) {
    const raw = physical[i];
    const startLine = i + 1;
    i++;
    if (isComment(raw)) continue;
    const first = trimLeft(raw);
    const column = raw.length - first.length + 1;
    let { text, end } = trimContinuation(first, escapeToken);
    if (end && text.trim().length === 0) continue;
    let emptyContinuationLine = false;
    while (!end && i < physical.length) {
      const next = physical[i];
      i++;
      if (isComment(next)) continue;
      if (trimLeft(next).length === 0) {
        emptyContinuationLine = true;
        continue;
      }
      const cont = trimContinuation(next, escapeToken);
      text += cont.text;
      end = cont.end;
    }
    let endLine = i;
    const heredocs: DockerfileHeredoc[] = [];
    const { keyword, rest } = heredocKeyword(text);
    if (HEREDOC_INSTRUCTIONS.has(keyword) && rest.includes('<<') && !parseJsonArray(skipFlags(rest))) {
      for (const h of findHeredocs(text)) {
        let content = '';
        let terminated = false;
        const bodyLine = i + 1;
        while (i < physical.length) {
          const body = physical[i];
          i++;
          const candidate = h.chomp ? stripLeadingTabs(body) : body;
          if (candidate === h.name) {
            terminated = true;
            break;
          }
          content += `${candidate}\n`;
        }
        if (!terminated) {
          throw new DockerfileError(
            'DOCKERFILE_UNTERMINATED_HEREDOC',
            `unterminated heredoc: no line "${h.name}" closes the heredoc opened on line ${startLine}`,
            file,
            startLine,
            column,
            `end the heredoc with a line holding only ${h.name}`,
          );
        }
        heredocs.push({ ...h, content, line: bodyLine });
      }
      endLine = i;
    }
    lines.push({ text, startLine, endLine, column, heredocs, emptyContinuationLine });
  }
  return { directives, directiveList: list, escapeToken, lines };
}
