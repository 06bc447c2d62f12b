/**
 * The `.env` file syntax of docker compose (compose-go's dotenv): `KEY=VALUE` lines, an optional
 * `export ` prefix, `#` comments (inline only after whitespace in unquoted values), single quotes
 * taken literally, double quotes with escapes (`\n`, `\t`, `\"`, `\\`, `\$`) that may span lines,
 * and `${VAR}` interpolation in unquoted and double-quoted values. A line holding only `KEY`
 * takes KEY's value from the lookup (the shell environment), or is skipped when unset.
 */
import { SourceError } from '../errors.js';
import { InterpolationError, type VariableLookup, interpolateString } from './interpolate.js';

/** A line of a dotenv file that does not parse; the file is set by the caller when it knows it. */
export class DotenvError extends SourceError {
  constructor(message: string, line: number, hint?: string, file?: string) {
    super('COMPOSE_DOTENV_INVALID', message, file, line, 1, hint);
  }
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', $: '$$' };

const KEY = /^[A-Za-z0-9_.\-[\]]+$/;

/**
 * Parses dotenv text. `lookup` resolves variables that are not defined earlier in the file
 * (and bare `KEY` lines). Returns entries in file order; later duplicates win.
 */
export function parseDotenv(text: string, lookup: VariableLookup = () => undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const src = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const vars: VariableLookup = (name) => (Object.hasOwn(out, name) ? out[name] : lookup(name));
  let i = 0;
  let line = 1;
  while (i < src.length) {
    // Skip blank lines and whole-line comments.
    const lineEnd = indexOrEnd(src, '\n', i);
    const raw = src.slice(i, lineEnd);
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      i = lineEnd + 1;
      line++;
      continue;
    }
    const startLine = line;
    let body = raw.trimStart();
    let offset = i + (raw.length - body.length);
    if (/^export\s+/.test(body)) {
      const m = /^export\s+/.exec(body)!;
      body = body.slice(m[0].length);
      offset += m[0].length;
    }
    const sep = body.search(/[=:]/);
    const keyPart = (sep < 0 ? body : body.slice(0, sep)).trim();
    if (sep < 0) {
      // `KEY` alone: inherit from the environment.
      const key = keyPart.replace(/\s+#.*$/, '').trim();
      if (!KEY.test(key)) throw new DotenvError(`invalid variable name ${JSON.stringify(key)}`, startLine);
      const v = lookup(key);
      if (v !== undefined) out[key] = v;
      i = lineEnd + 1;
      line++;
      continue;
    }
    if (!KEY.test(keyPart)) {
      throw new DotenvError(
        `invalid variable name ${JSON.stringify(keyPart)}`,
        startLine,
        'names hold letters, digits, "_", "." and "-"',
      );
    }
    let p = offset + sep + 1;
    while (p < src.length && (src[p] === ' ' || src[p] === '\t')) p++;
    const q = src[p];
    let value: string;
    let next: number;
    if (q === "'" || q === '"') {
      let j = p + 1;
      let buf = '';
      for (;;) {
        if (j >= src.length) throw new DotenvError(`unterminated quoted value for ${keyPart}`, startLine);
        const c = src[j];
        if (c === '\\' && q === '"' && j + 1 < src.length) {
          const e = src[j + 1];
          buf += ESCAPES[e] ?? `\\${e}`;
          j += 2;
          continue;
        }
        if (c === q) break;
        if (c === '\n') line++;
        buf += q === "'" && c === '$' ? '$$' : c;
        j++;
      }
      value = interpolate(buf, vars, keyPart, startLine);
      next = indexOrEnd(src, '\n', j + 1);
      const trailing = src.slice(j + 1, next).trim();
      if (trailing !== '' && !trailing.startsWith('#')) {
        throw new DotenvError(
          `unexpected text after the quoted value of ${keyPart}: ${JSON.stringify(trailing)}`,
          line,
        );
      }
    } else {
      next = indexOrEnd(src, '\n', p);
      let v = src.slice(p, next);
      const hash = v.search(/\s#/);
      if (hash >= 0) v = v.slice(0, hash);
      else if (v.startsWith('#')) v = '';
      value = interpolate(v.trim(), vars, keyPart, startLine);
    }
    out[keyPart] = value;
    i = next + 1;
    line++;
  }
  return out;
}

function interpolate(value: string, lookup: VariableLookup, key: string, line: number): string {
  try {
    return interpolateString(value, lookup);
  } catch (e) {
    if (e instanceof InterpolationError) throw new DotenvError(`${key}: ${e.message}`, line, e.hint);
    throw e;
  }
}

function indexOrEnd(s: string, ch: string, from: number): number {
  const k = s.indexOf(ch, from);
  return k < 0 ? s.length : k;
}
