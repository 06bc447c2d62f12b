/**
 * `.dockerignore` as Docker applies it (moby/patternmatcher and ignorefile): one pattern a line,
 * `#` comments, blank lines skipped, surrounding blanks trimmed, each pattern cleaned like Go's
 * filepath.Clean with a leading `/` dropped; `*`, `?`, `[…]` and `\` as in filepath.Match, `**` for
 * any number of directories; `!` re-includes. The last matching pattern wins, and a pattern that
 * matches a parent directory matches everything under it.
 */

export interface DockerignorePattern {
  /** The cleaned pattern, without `!`. */
  pattern: string;
  exclusion: boolean;
  /** 1-based line in .dockerignore. */
  line: number;
  regexp: RegExp;
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

const REGEXP_SPECIAL = '.+()|^${}';

function compilePattern(pattern: string): RegExp {
  let re = '^';
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        i++;
        if (chars[i + 1] === '/') i++;
        re += i + 1 >= chars.length ? '.*' : '(.*/)?';
      } else {
        re += '[^/]*';
      }
    } else if (ch === '?') {
      re += '[^/]';
    } else if (ch === '[') {
      // A character class as in filepath.Match: [abc], [a-z], [^a-z]; escapes inside kept.
      let j = i + 1;
      let cls = '';
      if (chars[j] === '^' || chars[j] === '!') {
        cls += '^';
        j++;
      }
      let closed = false;
      for (; j < chars.length; j++) {
        if (chars[j] === '\\' && j + 1 < chars.length) {
          cls += `\\${chars[++j]}`;
        } else if (chars[j] === ']' && cls.replace(/^\^/, '') !== '') {
          closed = true;
          break;
        } else {
          cls += chars[j] === '/' ? '' : chars[j] === '[' ? '\\[' : chars[j];
        }
      }
      if (!closed) return /(?!)/; // a malformed class never matches, as filepath.Match errors
      re += `[${cls}]`;
      i = j;
    } else if (ch === '\\') {
      if (i + 1 < chars.length) re += `\\${chars[++i]}`;
      else re += '\\\\';
    } else if (REGEXP_SPECIAL.includes(ch) || ch === ']') {
      re += `\\${ch}`;
    } else {
      re += ch;
    }
  }
  re += '$';
  try {
    return new RegExp(re, 'u');
  } catch {
    return /(?!)/;
  }
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
    out.push({ pattern, exclusion, line: n + 1, regexp: compilePattern(pattern) });
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
      const parents = file.split('/');
      parents.pop();
      let matched = false;
      for (const p of list) {
        if (p.exclusion !== matched) continue;
        let match = p.regexp.test(file);
        if (!match && parents.length > 0) {
          let prefix = '';
          for (const seg of parents) {
            prefix = prefix === '' ? seg : `${prefix}/${seg}`;
            if (p.regexp.test(prefix)) {
              match = true;
              break;
            }
          }
        }
        if (match) matched = !p.exclusion;
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
