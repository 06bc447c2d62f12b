import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ExpansionError } from './errors.js';
import { expandWord } from './expand.js';
import {
  replaceAllMatches,
  replaceFirstMatch,
  reversePattern,
  trimPatternPrefix,
  trimPatternSuffix,
} from './shell-pattern.js';

/**
 * BuildKit's own translation (shell/lex.go convertShellPatternToRegex), with Go's `.` (anything but a
 * newline). A backtracking regexp, used here only on short inputs, as the reference the linear matcher
 * must agree with.
 */
function referenceRegExp(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  let out = anchored ? '^' : '';
  const runes = Array.from(pattern);
  for (let i = 0; i < runes.length; i++) {
    const tok = runes[i];
    if (tok === '*') out += greedy ? '[^\\n]*' : '[^\\n]*?';
    else if (tok === '?') out += '[^\\n]';
    else if (tok === '\\') {
      if (runes[i + 1] === '}' || runes[i + 1] === '/') continue;
      out += `\\${runes[++i]}`;
    } else if ('[]{}.+()|^$'.includes(tok)) out += `\\${tok}`;
    else out += tok;
  }
  return new RegExp(out, global ? 'gu' : 'u');
}

/** Go's Regexp.ReplaceAllString loop (an empty match right after a match is not replaced). */
function goReplaceAll(re: RegExp, v: string, r: string): string {
  let out = '';
  let lastEnd = 0;
  let search = 0;
  while (search <= v.length) {
    re.lastIndex = search;
    const m = re.exec(v);
    if (!m) break;
    const end = m.index + m[0].length;
    out += v.slice(lastEnd, m.index);
    if (end > lastEnd || m.index === 0) out += r;
    lastEnd = end;
    search = search + 1 > end ? search + 1 : end;
  }
  return out + v.slice(lastEnd);
}

const alphabet = fc.constantFrom('a', 'b', '*', '?', '\n', '.', 'ab');
const patterns = fc.array(alphabet, { maxLength: 6 }).map((a) => a.join(''));
const values = fc.array(fc.constantFrom('a', 'b', 'c', '\n', '.'), { maxLength: 10 }).map((a) => a.join(''));

describe('shell patterns match as BuildKit matches them, in linear time', () => {
  test('# and ## agree with BuildKit regexps', () =>
    fc.assert(
      fc.property(patterns, values, fc.boolean(), (p, v, greedy) => {
        const m = referenceRegExp(p, greedy, true).exec(v);
        expect(trimPatternPrefix(p, v, greedy)).toBe(m ? v.slice(m[0].length) : v);
      }),
      { numRuns: 3000 },
    ));

  test('% and %% agree with BuildKit regexps on the reversed text', () =>
    fc.assert(
      fc.property(patterns, values, fc.boolean(), (p, v, greedy) => {
        const rev = [...v].reverse().join('');
        const m = referenceRegExp(reversePattern(p), greedy, true).exec(rev);
        const want = m ? [...rev.slice(m[0].length)].reverse().join('') : v;
        expect(trimPatternSuffix(p, v, greedy)).toBe(want);
      }),
      { numRuns: 3000 },
    ));

  test('/ and // agree with BuildKit regexps', () =>
    fc.assert(
      fc.property(patterns, values, (p, v) => {
        const m = referenceRegExp(p, true, false).exec(v);
        const first = m ? v.slice(0, m.index) + 'R' + v.slice(m.index + m[0].length) : v;
        expect(replaceFirstMatch(p, v, 'R')).toBe(first);
        expect(replaceAllMatches(p, v, 'R')).toBe(goReplaceAll(referenceRegExp(p, true, false, true), v, 'R'));
      }),
      { numRuns: 3000 },
    ));

  test('a long line of stars is answered at once', () => {
    const stars = '*a'.repeat(30);
    const value = 'a'.repeat(2000) + 'b';
    const env = new Map([['V', value]]);
    for (const op of ['#', '##', '%', '%%', '/', '//']) {
      const word = op.startsWith('/') ? `\${V${op}${stars}/x}` : `\${V${op}${stars}}`;
      expect(typeof expandWord(word, env).value).toBe('string');
    }
  });

  test('$0 in a // replacement is the match, as in Go', () => {
    expect(replaceAllMatches('b', 'abc', '[$0]')).toBe('a[b]c');
    expect(replaceAllMatches('b', 'abc', '$$x${y}$')).toBe('a$x$c');
    expect(replaceFirstMatch('b', 'abc', '[$0]')).toBe('a[$0]c');
  });

  test('escapes BuildKit refuses are errors naming the pattern', () => {
    expect(() => trimPatternPrefix('a\\b', 'ab', false)).toThrow(ExpansionError);
    expect(() => trimPatternPrefix('a\\b', 'ab', false)).toThrow(
      "invalid pattern (a\\b) in substitution: invalid escape '\\b'",
    );
  });
});
