import { ExpansionError } from './errors.js';
import { replaceAllMatches, replaceFirstMatch, trimPatternPrefix, trimPatternSuffix } from './shell-pattern.js';

/**
 * Word expansion as BuildKit's shell lexer does it (frontend/dockerfile/shell/lex.go): quote
 * removal, the escape token, `$VAR`, `${VAR}` and the modifiers `:-  -  :+  +  :?  ?  #  ##  %  %%`,
 * `/pat/rep` and `//pat/rep`. Variables never come from the host: only from the map given.
 */

/** Variables visible to an expansion. `undefined` values are declared but unset (`ARG X`). */
export type ExpansionEnv = ReadonlyMap<string, string | undefined>;

export interface ExpandOptions {
  /** The escape token: `\` by default, `` ` `` after `# escape=``. */
  escape?: string;
  /** Keep quote characters in the output (used to tell quoted heredoc delimiters). */
  rawQuotes?: boolean;
  /** Keep escape tokens in the output. */
  rawEscapes?: boolean;
  /** Leave references to unset variables as written instead of expanding them to "". */
  skipUnset?: boolean;
  /** Treat quotes as ordinary characters (heredoc bodies). Default true: quotes are removed. */
  processQuotes?: boolean;
}

export interface ExpansionResult {
  /** The word after expansion and quote removal. */
  value: string;
  /** The same text split on unquoted whitespace (ProcessWords). */
  words: string[];
  /** Names that were looked up and found. */
  matched: Set<string>;
  /** Names that were looked up and not set. */
  unmatched: Set<string>;
}

const EOF = '';
/** `${A:-${B:-…}}` deeper than this is refused rather than risking the stack (BuildKit, in Go, has no bound). */
const MAX_NESTING = 256;

class WordBuilder {
  words: string[] = [];
  word = '';
  inWord = false;

  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.word.length > 0) {
        this.words.push(this.word);
        this.word = '';
        this.inWord = false;
      }
    } else {
      this.addRaw(ch);
    }
  }

  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  addRaw(s: string): void {
    this.word += s;
    this.inWord = true;
  }

  finish(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = '';
      this.inWord = false;
    }
    return this.words;
  }
}

function isSpace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\v' || ch === '\f';
}

function isDigit(ch: string): boolean {
  return ch >= '0' && ch <= '9';
}

function isNameChar(ch: string): boolean {
  const c = ch.charCodeAt(0);
  if (c < 128) return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
  return /[\p{L}\p{N}]/u.test(ch);
}

function isSpecialParam(ch: string): boolean {
  return '@*#?-$!0'.includes(ch) && ch !== '';
}

class WordProcessor {
  private readonly chars: string[];
  private pos = 0;
  private rawEscapes: boolean;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();
  private depth = 0;

  constructor(
    text: string,
    private readonly env: ExpansionEnv,
    private readonly escapeToken: string,
    private readonly rawQuotes: boolean,
    rawEscapes: boolean,
    private readonly skipUnset: boolean,
    private readonly processQuotes: boolean,
  ) {
    this.chars = Array.from(text);
    this.rawEscapes = rawEscapes;
  }

  /** The code-point index being read, for error columns. */
  get position(): number {
    return this.pos;
  }

  private peek(): string {
    return this.pos < this.chars.length ? this.chars[this.pos] : EOF;
  }

  private next(): string {
    return this.pos < this.chars.length ? this.chars[this.pos++] : EOF;
  }

  run(): { value: string; words: string[] } {
    return this.processStopOn(EOF, this.rawEscapes);
  }

  private processStopOn(stop: string, rawEscapes: boolean): { value: string; words: string[] } {
    let result = '';
    const words = new WordBuilder();
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      while (this.peek() !== EOF) {
        const ch = this.peek();
        if (stop !== EOF && ch === stop) {
          this.next();
          return { value: result, words: words.finish() };
        }
        if (ch === '$') {
          const v = this.processDollar();
          result += v;
          words.addString(v);
        } else if (ch === "'" && this.processQuotes) {
          const v = this.processSingleQuote();
          result += v;
          words.addRaw(v);
        } else if (ch === '"' && this.processQuotes) {
          const v = this.processDoubleQuote();
          result += v;
          words.addRaw(v);
        } else {
          let c = this.next();
          if (c === this.escapeToken) {
            if (this.rawEscapes) {
              words.addRaw(c);
              result += c;
            }
            c = this.next();
            if (c === EOF) break;
            words.addRaw(c);
          } else {
            words.addChar(c);
          }
          result += c;
        }
      }
      if (stop !== EOF) {
        throw new ExpansionError(
          'DOCKERFILE_BAD_SUBSTITUTION',
          `unexpected end of statement while looking for matching ${stop}`,
        );
      }
      return { value: result, words: words.finish() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processSingleQuote(): string {
    let result = '';
    const open = this.next();
    if (this.rawQuotes) result += open;
    for (;;) {
      const ch = this.next();
      if (ch === EOF) {
        throw new ExpansionError(
          'DOCKERFILE_UNTERMINATED_QUOTE',
          'unexpected end of statement while looking for matching single-quote',
        );
      }
      if (ch === "'") {
        if (this.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    let result = '';
    const open = this.next();
    if (this.rawQuotes) result += open;
    for (;;) {
      const p = this.peek();
      if (p === EOF) {
        throw new ExpansionError(
          'DOCKERFILE_UNTERMINATED_QUOTE',
          'unexpected end of statement while looking for matching double-quote',
        );
      }
      if (p === '"') {
        const ch = this.next();
        if (this.rawQuotes) result += ch;
        return result;
      }
      if (p === '$') {
        result += this.processDollar();
        continue;
      }
      let ch = this.next();
      if (ch === this.escapeToken) {
        if (this.rawEscapes) result += ch;
        const after = this.peek();
        if (after === EOF) continue;
        if (after === '"' || after === '$' || after === this.escapeToken) ch = this.next();
      }
      result += ch;
    }
  }

  private lookup(name: string): { value: string; set: boolean } {
    const value = this.env.get(name);
    if (value === undefined) {
      this.unmatched.add(name);
      return { value: '', set: false };
    }
    this.matched.add(name);
    return { value, set: true };
  }

  private processName(): string {
    let name = '';
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name.length === 0 && isDigit(ch)) {
        while (this.peek() !== EOF && isDigit(this.peek())) name += this.next();
        return name;
      }
      if (name.length === 0 && isSpecialParam(ch)) return this.next();
      if (!isNameChar(ch)) break;
      name += this.next();
    }
    return name;
  }

  private processDollar(): string {
    if (this.depth >= MAX_NESTING) {
      throw new ExpansionError(
        'DOCKERFILE_BAD_SUBSTITUTION',
        `substitutions nested more than ${MAX_NESTING} levels deep`,
      );
    }
    this.depth++;
    try {
      return this.processDollarAt();
    } finally {
      this.depth--;
    }
  }

  private processDollarAt(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const { value, set } = this.lookup(name);
      if (!set && this.skipUnset) return `$${name}`;
      return value;
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new ExpansionError('DOCKERFILE_BAD_SUBSTITUTION', "syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') {
      throw new ExpansionError('DOCKERFILE_BAD_SUBSTITUTION', 'syntax error: bad substitution');
    }
    const name = this.processName();
    let ch = this.next();
    let modifier = ch;
    let nullIsUnset = false;
    switch (ch) {
      case '}': {
        const { value, set } = this.lookup(name);
        if (!set && this.skipUnset) return `\${${name}}`;
        return value;
      }
      case ':':
        nullIsUnset = true;
        ch = this.next();
        modifier += ch;
        if (ch === '#' || ch === '%') {
          throw new ExpansionError('DOCKERFILE_BAD_SUBSTITUTION', `unsupported modifier (${modifier}) in substitution`);
        }
        if (!'+-?'.includes(ch) || ch === EOF) {
          // BuildKit reads the word before rejecting the modifier.
          this.readWordOrMissingBrace(false);
          throw new ExpansionError('DOCKERFILE_BAD_SUBSTITUTION', `unsupported modifier (${modifier}) in substitution`);
        }
        return this.applyModifier(name, ch, modifier, nullIsUnset);
      case '+':
      case '-':
      case '?':
      case '#':
      case '%':
        return this.applyModifier(name, ch, modifier, nullIsUnset);
      case '/': {
        const replaceAll = this.peek() === '/';
        if (replaceAll) this.next();
        let pattern: string;
        try {
          pattern = this.processStopOn('/', true).value;
        } catch (e) {
          if (this.peek() === EOF)
            throw new ExpansionError('DOCKERFILE_BAD_SUBSTITUTION', "syntax error: missing '/' in ${}");
          throw e;
        }
        const replacement = this.readWordOrMissingBrace(true);
        const { value, set } = this.lookup(name);
        if (this.skipUnset && !set) return `\${${name}/${pattern}/${replacement}}`;
        return replaceAll
          ? replaceAllMatches(pattern, value, replacement)
          : replaceFirstMatch(pattern, value, replacement);
      }
      default:
        throw new ExpansionError(
          'DOCKERFILE_BAD_SUBSTITUTION',
          ch === EOF ? "syntax error: missing '}'" : `unsupported modifier (${modifier}) in substitution`,
        );
    }
  }

  private readWordOrMissingBrace(rawEscapes: boolean): string {
    try {
      return this.processStopOn('}', rawEscapes).value;
    } catch (e) {
      if (this.peek() === EOF) throw new ExpansionError('DOCKERFILE_BAD_SUBSTITUTION', "syntax error: missing '}'");
      throw e;
    }
  }

  private applyModifier(name: string, ch: string, modifier: string, nullIsUnset: boolean): string {
    let word = this.readWordOrMissingBrace(ch === '#' || ch === '%');
    const { value, set } = this.lookup(name);
    if (this.skipUnset && !set) return `\${${name}${modifier}${word}}`;
    const unsetOrNull = !set || (nullIsUnset && value === '');
    switch (ch) {
      case '-':
        return unsetOrNull ? word : value;
      case '+':
        return unsetOrNull ? '' : word;
      case '?':
        if (!set)
          throw new ExpansionError('DOCKERFILE_REQUIRED_VARIABLE', `${name}: ${word || 'is not allowed to be unset'}`);
        if (nullIsUnset && value === '') {
          throw new ExpansionError('DOCKERFILE_REQUIRED_VARIABLE', `${name}: ${word || 'is not allowed to be empty'}`);
        }
        return value;
      default: {
        // # and % trim the shortest match, ## and %% the longest.
        let greedy = false;
        if (word.startsWith(ch)) {
          greedy = true;
          word = word.slice(1);
        }
        return ch === '#' ? trimPatternPrefix(word, value, greedy) : trimPatternSuffix(word, value, greedy);
      }
    }
  }
}

/**
 * Expands one word: variables from `env`, quotes removed, escapes applied. Throws ExpansionError on a
 * malformed substitution or `${X:?message}` with X unset.
 */
export function expandWord(word: string, env: ExpansionEnv, options: ExpandOptions = {}): ExpansionResult {
  const p = new WordProcessor(
    word,
    env,
    options.escape ?? '\\',
    options.rawQuotes ?? false,
    options.rawEscapes ?? false,
    options.skipUnset ?? false,
    options.processQuotes ?? true,
  );
  let out: { value: string; words: string[] };
  try {
    out = p.run();
  } catch (e) {
    if (e instanceof ExpansionError && e.column === 1) throw new ExpansionError(e.code, e.message, p.position + 1);
    throw e;
  }
  const { value, words } = out;
  return { value, words, matched: p.matched, unmatched: p.unmatched };
}

/** An empty environment, for expansions that only remove quotes. */
export const emptyExpansionEnv: ExpansionEnv = new Map();
