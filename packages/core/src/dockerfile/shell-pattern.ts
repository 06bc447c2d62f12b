/**
 * The wildcard patterns of `${VAR#p}`, `${VAR##p}`, `${VAR%p}`, `${VAR%%p}`, `${VAR/p/r}` and
 * `${VAR//p/r}`, as BuildKit's shell lexer applies them: `*` any run of characters, `?` one character
 * (neither crosses a newline: BuildKit compiles them to Go's `.`), `\*`, `\?` and `\\` literal, `\}`
 * and `\/` the bare character, no bracket expressions. `#`/`%` take the shortest match, `##`/`%%` the
 * longest; `%` works on the reversed text, as BuildKit does. Matching is linear (glob-nfa.ts).
 */
import { ExpansionError } from './errors.js';
import { type Nfa, type NfaToken, compileNfa, matchEnds, possibleStarts } from './glob-nfa.js';

const anyButNewline = (c: string) => c !== '\n';

/** Reads a pattern into tokens; throws ExpansionError on an escape BuildKit rejects. */
function tokenize(pattern: string): NfaToken[] {
  const runes = Array.from(pattern);
  const tokens: NfaToken[] = [];
  for (let i = 0; i < runes.length; i++) {
    let tok = runes[i];
    if (tok === '*') {
      tokens.push({ kind: 'many', test: anyButNewline });
      continue;
    }
    if (tok === '?') {
      tokens.push({ kind: 'one', test: anyButNewline });
      continue;
    }
    if (tok === '\\') {
      const next = runes[i + 1];
      // `\}` and `\/` are escapes of ${…} itself, not of the pattern: the next character is read as usual.
      if (next === '}' || next === '/') continue;
      i++;
      if (next !== '*' && next !== '?' && next !== '\\') {
        throw new ExpansionError(
          'DOCKERFILE_BAD_SUBSTITUTION',
          `invalid pattern (${pattern}) in substitution: invalid escape '\\${next ?? '\ufffd'}'`,
        );
      }
      tok = next;
    }
    const literal = tok;
    tokens.push({ kind: 'one', test: (c) => c === literal });
  }
  return tokens;
}

/** A compiled pattern: forwards, and backwards for finding where unanchored matches start. */
export interface ShellPattern {
  forward: Nfa;
  backward: Nfa;
}

export function compileShellPattern(pattern: string): ShellPattern {
  const tokens = tokenize(pattern);
  return { forward: compileNfa(tokens), backward: compileNfa([...tokens].reverse()) };
}

/** Reverses a pattern keeping `\x` escapes in front of the character they escape (BuildKit's reversePattern). */
export function reversePattern(pattern: string): string {
  const runes = Array.from(pattern);
  const out = new Array<string>(runes.length);
  const last = runes.length - 1;
  for (let i = 0; i <= last; ) {
    if (runes[i] === '\\' && i !== last) {
      out[last - i - 1] = '\\';
      out[last - i] = runes[i + 1];
      i += 2;
    } else {
      out[last - i] = runes[i];
      i++;
    }
  }
  return out.join('');
}

/** `${VAR#p}` (shortest) and `${VAR##p}` (longest): the value without the matching prefix. */
export function trimPatternPrefix(pattern: string, value: string, longest: boolean): string {
  const runes = Array.from(value);
  const ends = matchEnds(compileShellPattern(pattern).forward, runes, 0, !longest);
  if (ends.length === 0) return value;
  return runes.slice(longest ? ends[ends.length - 1] : ends[0]).join('');
}

/** `${VAR%p}` (shortest) and `${VAR%%p}` (longest): the value without the matching suffix. */
export function trimPatternSuffix(pattern: string, value: string, longest: boolean): string {
  const reversed = Array.from(value).reverse().join('');
  return Array.from(trimPatternPrefix(reversePattern(pattern), reversed, longest))
    .reverse()
    .join('');
}

/** The leftmost match at or after `from`, longest from there (Go's leftmost-first with greedy `*`). */
function findMatch(p: ShellPattern, runes: string[], starts: boolean[], from: number): [number, number] | undefined {
  for (let s = from; s <= runes.length; s++) {
    if (!starts[s]) continue;
    const ends = matchEnds(p.forward, runes, s, false);
    if (ends.length > 0) return [s, ends[ends.length - 1]];
  }
  return undefined;
}

/** `${VAR/p/r}`: the first match replaced by `replacement`, taken literally. */
export function replaceFirstMatch(pattern: string, value: string, replacement: string): string {
  const p = compileShellPattern(pattern);
  const runes = Array.from(value);
  const m = findMatch(p, runes, possibleStarts(p.backward, runes), 0);
  if (!m) return value;
  return runes.slice(0, m[0]).join('') + replacement + runes.slice(m[1]).join('');
}

/**
 * `${VAR//p/r}`: every match replaced, as Go's Regexp.ReplaceAllString does it (BuildKit calls it):
 * an empty match right after a match is skipped, and `$0`/`${0}` in the replacement stand for the
 * match, other `$name`s for nothing, `$$` for `$`.
 */
export function replaceAllMatches(pattern: string, value: string, replacement: string): string {
  const p = compileShellPattern(pattern);
  const runes = Array.from(value);
  const starts = possibleStarts(p.backward, runes);
  let out = '';
  let lastEnd = 0;
  let search = 0;
  while (search <= runes.length) {
    const m = findMatch(p, runes, starts, search);
    if (!m) break;
    out += runes.slice(lastEnd, m[0]).join('');
    if (m[1] > lastEnd || m[0] === 0) out += expandTemplate(replacement, runes.slice(m[0], m[1]).join(''));
    lastEnd = m[1];
    search = search + 1 > m[1] ? search + 1 : m[1];
  }
  return out + runes.slice(lastEnd).join('');
}

/** Go's Regexp.Expand for a pattern with no groups: `$0` is the match. */
function expandTemplate(template: string, match: string): string {
  let out = '';
  let rest = template;
  for (;;) {
    const dollar = rest.indexOf('$');
    if (dollar < 0) return out + rest;
    out += rest.slice(0, dollar);
    rest = rest.slice(dollar + 1);
    if (rest.startsWith('$')) {
      out += '$';
      rest = rest.slice(1);
      continue;
    }
    const m = /^(?:\{([\p{L}\p{N}_]+)\}|([\p{L}\p{N}_]+))/u.exec(rest);
    if (!m) {
      out += '$';
      continue;
    }
    rest = rest.slice(m[0].length);
    const name = m[1] ?? m[2];
    if (name === '0') out += match;
  }
}
