// Go text/template, step 1: the template split into text and actions ({{…}}, with `{{- ` / ` -}}` trim
// markers and {{/* comments */}}), and each action into tokens that keep their offset in the template.
import { TemplateError } from './error.js';

export type TokenKind =
  | 'field' // .Name
  | 'dot' // .
  | 'variable' // $x, $
  | 'ident' // a function name or keyword
  | 'string'
  | 'number'
  | 'char'
  | 'pipe' // |
  | 'lparen'
  | 'rparen'
  | 'comma'
  | 'declare' // :=
  | 'assign'; // =

export interface Token {
  kind: TokenKind;
  text: string;
  /** The decoded value of string, char and number tokens. */
  value?: string | number;
  /** Offset in the template. */
  pos: number;
  /** True when whitespace separates this token from the one before (`.A .B` vs `.A.B`). */
  spaced: boolean;
}

export type Segment = { kind: 'text'; text: string; pos: number } | { kind: 'action'; tokens: Token[]; pos: number };

const SPACE = /[ \t\r\n]/;

/** Where an action closes: the `}}` outside string literals, from `from`. */
function findClose(src: string, from: number, open: number): number {
  let i = from;
  while (i < src.length) {
    const c = src[i];
    if (c === '}' && src[i + 1] === '}') return i;
    if (c === '"' || c === "'" || c === '`') {
      const quote = c;
      const start = i;
      i++;
      while (i < src.length && src[i] !== quote) {
        if (src[i] === '\\' && quote !== '`') i++;
        if (src[i] === '\n' && quote !== '`') throw new TemplateError('unterminated quoted string', src, i);
        i++;
      }
      if (i >= src.length) throw new TemplateError('unterminated quoted string', src, start);
    }
    i++;
  }
  throw new TemplateError('unclosed action', src, open);
}

/** Splits the template into text and action segments, applying trim markers and dropping comments. */
export function segment(src: string): Segment[] {
  const out: Segment[] = [];
  let i = 0;
  let trimNext = false;
  while (i <= src.length) {
    const open = src.indexOf('{{', i);
    let text = src.slice(i, open < 0 ? src.length : open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    const trimLeft = open >= 0 && src[open + 2] === '-' && SPACE.test(src[open + 3] ?? '');
    if (trimLeft) text = text.replace(/[ \t\r\n]+$/, '');
    if (text) out.push({ kind: 'text', text, pos: i });
    if (open < 0) break;
    let start = open + (trimLeft ? 3 : 2);
    const close = findClose(src, start, open);
    let end = close;
    trimNext = SPACE.test(src[close - 2] ?? '') && src[close - 1] === '-' && close - 1 >= start;
    if (trimNext) end = close - 1;
    while (start < end && SPACE.test(src[start])) start++;
    const inner = src.slice(start, end).trimEnd();
    if (inner.startsWith('/*')) {
      if (!inner.endsWith('*/') || inner.length < 4) throw new TemplateError('unclosed comment', src, open);
    } else out.push({ kind: 'action', tokens: tokenize(src, start, start + inner.length), pos: open });
    i = close + 2;
  }
  return out;
}

const ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  '"': '"',
  "'": "'",
};

/** Decodes a Go interpreted string or char literal body. */
function unquote(src: string, body: string, pos: number): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== '\\') {
      out += body[i];
      continue;
    }
    const c = body[++i];
    if (c in ESCAPES) out += ESCAPES[c];
    else if (c === 'x' || c === 'u' || c === 'U') {
      const n = c === 'x' ? 2 : c === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) throw new TemplateError('invalid escape in string', src, pos);
      out += String.fromCodePoint(Number.parseInt(hex, 16));
      i += n;
    } else if (c >= '0' && c <= '7') {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct)) throw new TemplateError('invalid escape in string', src, pos);
      out += String.fromCharCode(Number.parseInt(oct, 8));
      i += 2;
    } else throw new TemplateError(`unknown escape sequence \\${c ?? ''}`, src, pos);
  }
  return out;
}

const NUMBER =
  /^[+-]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?)/;

/** The tokens of one action, src[from, to). */
export function tokenize(src: string, from: number, to: number): Token[] {
  const tokens: Token[] = [];
  let i = from;
  let spaced = true;
  const push = (kind: TokenKind, text: string, pos: number, value?: string | number) => {
    tokens.push({ kind, text, pos, spaced, value });
    spaced = false;
  };
  while (i < to) {
    const c = src[i];
    if (SPACE.test(c)) {
      spaced = true;
      i++;
      continue;
    }
    const rest = src.slice(i, to);
    if (c === '|') push('pipe', c, i++);
    else if (c === '(') push('lparen', c, i++);
    else if (c === ')') push('rparen', c, i++);
    else if (c === ',') push('comma', c, i++);
    else if (rest.startsWith(':=')) {
      push('declare', ':=', i);
      i += 2;
    } else if (c === '=') push('assign', c, i++);
    else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < to && src[j] !== c) j += src[j] === '\\' ? 2 : 1;
      if (j >= to) throw new TemplateError('unterminated quoted string', src, i);
      const body = unquote(src, src.slice(i + 1, j), i);
      if (c === "'") {
        if ([...body].length !== 1)
          throw new TemplateError(`malformed character constant: ${src.slice(i, j + 1)}`, src, i);
        push('char', src.slice(i, j + 1), i, body.codePointAt(0));
      } else push('string', src.slice(i, j + 1), i, body);
      i = j + 1;
    } else if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0 || j >= to) throw new TemplateError('unterminated raw quoted string', src, i);
      push('string', src.slice(i, j + 1), i, src.slice(i + 1, j));
      i = j + 1;
    } else if (c === '$') {
      const m = /^\$[A-Za-z0-9_]*/.exec(rest) as RegExpExecArray;
      push('variable', m[0], i);
      i += m[0].length;
    } else if (c === '.' && !/^\.\d/.test(rest)) {
      const m = /^\.[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
      if (m) {
        push('field', m[0], i);
        i += m[0].length;
      } else push('dot', '.', i++);
    } else if (NUMBER.test(rest) && (c !== '+' && c !== '-' ? true : /^[+-][\d.]/.test(rest))) {
      const m = NUMBER.exec(rest) as RegExpExecArray;
      const value = Number(
        m[0]
          .replace(/_/g, '')
          .replace(/^\+/, '')
          .replace(/^(-?)0[oO]/, '$10o'),
      );
      if (Number.isNaN(value) || /^[A-Za-z0-9_.]/.test(rest.slice(m[0].length)))
        throw new TemplateError(`bad number syntax: "${rest.split(/[\s|)(]/)[0]}"`, src, i);
      push('number', m[0], i, value);
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest) as RegExpExecArray;
      push('ident', m[0], i);
      i += m[0].length;
    } else throw new TemplateError(`unexpected "${c}" in command`, src, i);
  }
  return tokens;
}
