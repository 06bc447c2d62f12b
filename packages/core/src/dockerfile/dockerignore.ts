/**
 * `.dockerignore` as Docker applies it (moby/patternmatcher and ignorefile): one pattern a line,
 * `#` comments, blank lines skipped, surrounding blanks trimmed, each pattern cleaned like Go's
 * filepath.Clean with a leading `/` dropped; `*`, `?`, `[…]` and `\` as in filepath.Match, `**` for
 * any number of directories; `!` re-includes. The last matching pattern wins, and a pattern that
 * matches a parent directory matches everything under it. Matching is linear in the path (glob-nfa.ts).
 */
import { type NfaToken, compileNfa, matchesSomePrefix, matchesWhole } from './glob-nfa.js';

export interface DockerignorePattern {
  /** The cleaned pattern, without `!`. */
  pattern: string;
  exclusion: boolean;
  /** 1-based line in .dockerignore. */
  line: number;
  /** Whether the pattern itself (not its parents) matches a cleaned path. */
  matches: (path: string) => boolean;
  /** Whether it matches a cleaned path or one of its parent directories (one pass over the path). */
  matchesPathOrParent: (path: string) => boolean;
}

export interface DockerignoreMatcher {
  patterns: readonly DockerignorePattern[];
  /** true when the context path (slash-separated, relative) is ignored. */
  ignores(path: string): boolean;
  /** true when some `!` pattern could re-include something under this ignored directory. */
  mayReinclude(dir: string): boolean;
}

/** Go's path.Clean for slash-separated paths. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
    } else out.push(seg);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

type Match = (path: string) => boolean;
const never: Match = () => false;
/** A compiled pattern: on the path alone, and on the path or any of its parents. */
interface CompiledPattern {
  whole: Match;
  selfOrParent: Match;
}
const neverPattern: CompiledPattern = { whole: never, selfOrParent: never };

/** Whether `test` holds for the path or one of its parents (the path cut at each of its slashes). */
function someParent(path: string, test: (end: number) => boolean): boolean {
  if (test(path.length)) return true;
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) if (test(i)) return true;
  return false;
}
const notSlash = (c: string) => c !== '/';
const notNewline = (c: string) => c !== '\n';

/**
 * A bracket expression from `[` at `i` (as Go's regexp reads it, which moby hands it to): `^` negates,
 * `a-z` ranges, `\x` escapes. Returns the test and the index of the closing `]`, or undefined when
 * the class is malformed (moby then fails to compile the pattern; here it never matches).
 */
function readClass(chars: string[], i: number): { test: (c: string) => boolean; end: number } | undefined {
  let j = i + 1;
  const negate = chars[j] === '^';
  if (negate) j++;
  const ranges: [string, string][] = [];
  for (let first = true; j < chars.length; first = false) {
    if (chars[j] === ']' && !first) {
      const test = (c: string) => ranges.some(([lo, hi]) => c >= lo && c <= hi) !== negate;
      return { test, end: j };
    }
    let lo = chars[j];
    if (lo === '\\') lo = chars[++j];
    if (lo === undefined || lo === '[') return undefined;
    j++;
    let hi = lo;
    if (chars[j] === '-' && chars[j + 1] !== undefined && chars[j + 1] !== ']') {
      hi = chars[j + 1] === '\\' ? chars[j + 2] : chars[j + 1];
      j += chars[j + 1] === '\\' ? 3 : 2;
      if (hi === undefined || hi < lo) return undefined;
    }
    ranges.push([lo, hi]);
  }
  return undefined;
}

/**
 * Compiles a cleaned pattern as moby/patternmatcher does: an exact match, a prefix (`dir/**`), a
 * suffix (`**` then literals) or a wildcard pattern, matched over the whole path in linear time.
 */
function compilePattern(pattern: string): CompiledPattern {
  const chars = Array.from(pattern);
  const tokens: NfaToken[] = [];
  let type: 'exact' | 'prefix' | 'suffix' | 'wildcard' = 'exact';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        const first = i === 0;
        i++;
        if (chars[i + 1] === '/') i++;
        if (i + 1 >= chars.length) {
          if (type === 'exact') type = 'prefix';
          else {
            tokens.push({ kind: 'many', test: notNewline });
            type = 'wildcard';
          }
        } else {
          tokens.push({ kind: 'optionalRun', test: notNewline, end: (c) => c === '/' });
          type = 'wildcard';
        }
        if (first) type = 'suffix';
      } else {
        tokens.push({ kind: 'many', test: notSlash });
        type = 'wildcard';
      }
    } else if (ch === '?') {
      tokens.push({ kind: 'one', test: notSlash });
      type = 'wildcard';
    } else if (ch === '\\') {
      const next = chars[i + 1];
      if (next !== undefined) i++;
      const lit = next ?? '\\';
      tokens.push({ kind: 'one', test: (c) => c === lit });
      if (next !== undefined) type = 'wildcard';
    } else if (ch === '[') {
      const cls = readClass(chars, i);
      if (!cls) return neverPattern;
      tokens.push({ kind: 'one', test: cls.test });
      i = cls.end;
      type = 'wildcard';
    } else if (ch === '^') {
      // moby does not escape `^`: in its regexp it asserts the start of the path.
      tokens.push({ kind: 'start' });
    } else {
      tokens.push({ kind: 'one', test: (c) => c === ch });
    }
  }
  if (type === 'exact') {
    const whole: Match = (path) => path === pattern;
    return { whole, selfOrParent: (path) => whole(path) || path.startsWith(`${pattern}/`) };
  }
  if (type === 'prefix') {
    // Every parent of a path is a prefix of it: a parent starts with `prefix` only if the path does.
    const prefix = pattern.slice(0, -2);
    const whole: Match = (path) => path.startsWith(prefix);
    return { whole, selfOrParent: whole };
  }
  if (type === 'suffix') {
    const suffix = pattern.slice(2);
    const bare = suffix.startsWith('/') ? suffix.slice(1) : undefined;
    const endsAt = (path: string, end: number) =>
      (end >= suffix.length && path.startsWith(suffix, end - suffix.length)) ||
      (bare !== undefined && end === bare.length && path.startsWith(bare));
    return {
      whole: (path) => endsAt(path, path.length),
      selfOrParent: (path) => someParent(path, (end) => endsAt(path, end)),
    };
  }
  const nfa = compileNfa(tokens);
  return {
    whole: (path) => matchesWhole(nfa, Array.from(path)),
    selfOrParent: (path) => {
      const chars = Array.from(path);
      return matchesSomePrefix(nfa, chars, (i) => i === chars.length || chars[i] === '/');
    },
  };
}

/** Reads a .dockerignore file into patterns. */
export function parseDockerignore(text: string): DockerignorePattern[] {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const out: DockerignorePattern[] = [];
  const lines = src.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n];
    if (raw.startsWith('#')) continue;
    let pattern = raw.trim();
    if (pattern === '') continue;
    const exclusion = pattern.startsWith('!');
    if (exclusion) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    const compiled = compilePattern(pattern);
    out.push({
      pattern,
      exclusion,
      line: n + 1,
      matches: compiled.whole,
      matchesPathOrParent: compiled.selfOrParent,
    });
  }
  return out;
}

/** A matcher over patterns (from parseDockerignore or a text). */
export function createDockerignoreMatcher(patterns: DockerignorePattern[] | string): DockerignoreMatcher {
  const list = typeof patterns === 'string' ? parseDockerignore(patterns) : patterns;
  const hasExclusions = list.some((p) => p.exclusion);
  return {
    patterns: list,
    ignores(path: string): boolean {
      const file = cleanPath(path);
      let matched = false;
      for (const p of list) {
        if (p.exclusion !== matched) continue;
        if (p.matchesPathOrParent(file)) matched = !p.exclusion;
      }
      return matched;
    },
    mayReinclude(dir: string): boolean {
      if (!hasExclusions) return false;
      const d = cleanPath(dir);
      return list.some(
        (p) => p.exclusion && (p.pattern.startsWith(`${d}/`) || /[*?[\\]/.test(p.pattern) || p.pattern === d),
      );
    },
  };
}
