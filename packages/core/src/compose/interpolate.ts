/**
 * Variable interpolation as compose-go's template package does it (template.go, whose tests
 * interpolate.test.ts mirrors): `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`,
 * `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`, `$$` for a literal dollar. A `$` followed by anything
 * but a name, `{` or `$` stays a literal `$` (`a $ string`, `^REGEX$`); `${` not followed by a
 * well-formed reference is an error. Defaults and alternatives may hold braces (`${J:-{"a":1}}`) and
 * further references, which are substituted only when used. compose-go finds references with a Go
 * regexp; this reads the same shapes by hand, in linear time, with nesting bounded.
 */
import { ConfigKeyError, type ErrorCode } from '../errors.js';
import { joinPath } from './errors.js';

/** Looks a variable up; undefined means unset (an empty string is set). */
export type VariableLookup = (name: string) => string | undefined;

/**
 * A malformed reference (`INVALID_TEMPLATE`) or a `?` variable unset (`MISSING_REQUIRED`). Located
 * by the caller, which knows the file and key path (interpolateTree).
 */
export class InterpolationError extends ConfigKeyError {
  constructor(
    code: ErrorCode,
    message: string,
    /** The text compose-go names in its message: the template, or the part of it at fault. */
    readonly template: string,
    hint?: string,
  ) {
    super(code, message, undefined, '', undefined, hint);
  }
}

export interface InterpolateOptions {
  /** Called once per unset variable substituted by an empty string. */
  onMissing?: (name: string) => void;
}

/** Deeper nesting of defaults (`${A:-${B:-${C…}}}`) is refused rather than risking the stack. */
const MAX_NESTING = 100;

const ESCAPE_HINT = 'You may need to escape any $ with another $.';

function isNameStart(c: string | undefined): boolean {
  return c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_');
}

function isNameChar(c: string | undefined): boolean {
  return isNameStart(c) || (c !== undefined && c >= '0' && c <= '9');
}

function invalidTemplate(template: string): InterpolationError {
  return new InterpolationError(
    'COMPOSE_INTERPOLATION_INVALID',
    `invalid interpolation format: ${template}`,
    template,
    ESCAPE_HINT,
  );
}

/** What compose-go's pattern matches at a `$`. */
type Reference =
  | { kind: 'escaped'; end: number }
  | { kind: 'named'; name: string; end: number }
  /** `${NAME}` or `${NAME<op>word}`: the name at [nameStart, nameEnd), the match ending at `end`. */
  | { kind: 'braced'; nameStart: number; nameEnd: number; op?: Operator; end: number }
  | { kind: 'invalid' };

const OPERATORS = [':?', '?', ':-', '-', ':+', '+'] as const;
type Operator = (typeof OPERATORS)[number];

/**
 * Where lines end and where the last `}` before a point is, computed once per template so that each
 * reference is found in constant time (compose-go's `(.*)}` runs to the last `}` of the line).
 */
class TemplateIndex {
  private nextNewline?: Int32Array;
  private lastBrace?: Int32Array;

  constructor(private readonly s: string) {}

  /** The index of the last `}` in [from, end of line), or -1. */
  lastBraceOnLine(from: number): number {
    const n = this.s.length;
    if (!this.nextNewline || !this.lastBrace) {
      this.nextNewline = new Int32Array(n + 1);
      this.lastBrace = new Int32Array(n + 1);
      this.nextNewline[n] = n;
      for (let i = n - 1; i >= 0; i--) this.nextNewline[i] = this.s[i] === '\n' ? i : this.nextNewline[i + 1];
      let last = -1;
      for (let i = 0; i < n; i++) {
        if (this.s[i] === '}') last = i;
        this.lastBrace[i] = last;
      }
    }
    const stop = this.nextNewline[Math.min(from, n)];
    const k = stop > 0 ? this.lastBrace[stop - 1] : -1;
    return k >= from ? k : -1;
  }
}

/** compose-go's `\$(?i:(\$)|([_a-z][_a-z0-9]*)|{(?:([_a-z][_a-z0-9]*(?::?[-+?](.*))?)}|()))` at `at`. */
function readReference(s: string, at: number, index: TemplateIndex): Reference | undefined {
  const c = s[at + 1];
  if (c === '$') return { kind: 'escaped', end: at + 2 };
  if (isNameStart(c)) {
    let j = at + 2;
    while (isNameChar(s[j])) j++;
    return { kind: 'named', name: s.slice(at + 1, j), end: j };
  }
  if (c !== '{') return undefined;
  const k = at + 2;
  if (!isNameStart(s[k])) return { kind: 'invalid' };
  let j = k + 1;
  while (isNameChar(s[j])) j++;
  // The operator right after the name is the first one in the reference, the one compose-go's
  // getSubstitutionFunctionForTemplate picks.
  const colon = s[j] === ':';
  const sign = colon ? s[j + 1] : s[j];
  if (sign === '-' || sign === '+' || sign === '?') {
    const close = index.lastBraceOnLine(colon ? j + 2 : j + 1);
    if (close >= 0)
      return { kind: 'braced', nameStart: k, nameEnd: j, op: `${colon ? ':' : ''}${sign}` as Operator, end: close + 1 };
  }
  if (s[j] === '}') return { kind: 'braced', nameStart: k, nameEnd: j, end: j + 1 };
  return { kind: 'invalid' };
}

/**
 * compose-go's getFirstBraceClosingIndex over [from, end): the `}` balancing the `{` of `${`, counting
 * `{` (and skipping the character after each); -1 when there is none.
 */
function firstBalancedClose(s: string, from: number, end: number): number {
  let open = 0;
  for (let i = from; i < end; i++) {
    if (s[i] === '}') {
      open--;
      if (open === 0) return i;
    }
    if (s[i] === '{') {
      open++;
      i++;
    }
  }
  return -1;
}

interface State {
  lookup: VariableLookup;
  options: InterpolateOptions;
  depth: number;
}

/** Substitutes every variable in `template`; throws InterpolationError on bad syntax or a `?` variable unset. */
export function interpolateString(template: string, lookup: VariableLookup, options: InterpolateOptions = {}): string {
  return substitute(template, { lookup, options, depth: 0 });
}

function substitute(template: string, state: State): string {
  if (!template.includes('$')) return template;
  if (state.depth > MAX_NESTING) {
    throw new InterpolationError(
      'COMPOSE_INTERPOLATION_INVALID',
      `interpolation nested more than ${MAX_NESTING} levels deep: ${template.slice(0, 80)}`,
      template,
    );
  }
  const inner: State = { ...state, depth: state.depth + 1 };
  const index = new TemplateIndex(template);
  // compose-go substitutes what follows the first balanced `}` of a `${…}` with an operator (up to the
  // last `}` of the line) as a new template: errors there name that part. Scanning on gives the same
  // value without recursion; `rest` remembers the part for messages.
  let rest: { start: number; end: number } | undefined;
  let out = '';
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf('$', i);
    if (dollar < 0) {
      out += template.slice(i);
      break;
    }
    out += template.slice(i, dollar);
    if (rest && dollar >= rest.end) rest = undefined;
    const ref = readReference(template, dollar, index);
    if (!ref) {
      out += '$';
      i = dollar + 1;
      continue;
    }
    if (ref.kind === 'invalid') throw invalidTemplate(rest ? template.slice(rest.start, rest.end) : template);
    if (ref.kind === 'escaped') out += '$';
    else if (ref.kind === 'named') out += resolve(ref.name, state);
    else if (ref.op === undefined) out += resolve(template.slice(ref.nameStart, ref.nameEnd), state);
    else {
      const close = firstBalancedClose(template, dollar, ref.end);
      const bodyEnd = close >= 0 ? close : ref.end - 1;
      out += applyOperator(template.slice(ref.nameStart, bodyEnd), ref.op, inner);
      if (close >= 0 && close + 1 < ref.end) {
        rest = { start: close + 1, end: ref.end };
        i = rest.start;
        continue;
      }
    }
    i = ref.end;
  }
  return out;
}

function resolve(name: string, state: State): string {
  const value = state.lookup(name);
  if (value === undefined) {
    state.options.onMissing?.(name);
    return '';
  }
  return value;
}

function applyOperator(body: string, op: Operator, state: State): string {
  const at = body.indexOf(op);
  const name = body.slice(0, at);
  const word = body.slice(at + op.length);
  const value = state.lookup(name);
  const set = value !== undefined;
  const nonEmpty = set && value !== '';
  switch (op) {
    case ':-':
      return nonEmpty ? value : substitute(word, state);
    case '-':
      return set ? value : substitute(word, state);
    case ':+':
      return nonEmpty ? substitute(word, state) : (value ?? '');
    case '+':
      return set ? substitute(word, state) : '';
    default: {
      if (op === ':?' ? nonEmpty : set) return value as string;
      const reason = substitute(word, state);
      throw new InterpolationError(
        'COMPOSE_VARIABLE_MISSING',
        `required variable ${name} is missing a value${reason ? `: ${reason}` : ''}`,
        body,
        `set ${name} in the environment or in the .env file`,
      );
    }
  }
}

/** A problem met while interpolating a tree of values, with the key path where it happened. */
export interface InterpolationProblem {
  path: (string | number)[];
  message: string;
  hint?: string;
}

/**
 * Interpolates every string in a YAML-like tree (values only: keys are not interpolated, as in compose).
 * Returns the new tree; problems are pushed to `problems` and the failing value is kept as is.
 */
export function interpolateTree(
  value: unknown,
  lookup: VariableLookup,
  problems: InterpolationProblem[],
  options: InterpolateOptions = {},
  path: (string | number)[] = [],
): unknown {
  if (typeof value === 'string') {
    try {
      return interpolateString(value, lookup, options);
    } catch (e) {
      if (!(e instanceof InterpolationError)) throw e;
      problems.push({ path, message: treeMessage(e, path), hint: e.hint });
      return value;
    }
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateTree(v, lookup, problems, options, [...path, i]));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateTree(v, lookup, problems, options, [...path, k]);
    return out;
  }
  return value;
}

/** compose-go's messages: "invalid interpolation format for <path>… <template>", "required variable …". */
function treeMessage(e: InterpolationError, path: (string | number)[]): string {
  if (e.code !== 'COMPOSE_INTERPOLATION_INVALID') return e.message;
  return `invalid interpolation format for ${joinPath(path)}: ${e.template}`;
}

/** Escapes a literal string so that interpolation gives it back unchanged. */
export function escapeInterpolation(s: string): string {
  return s.replaceAll('$', '$$$$');
}
