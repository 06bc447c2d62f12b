/**
 * Variable interpolation as compose-go's template package does it: `$VAR`, `${VAR}`, `${VAR:-default}`,
 * `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`, defaults that hold
 * further substitutions, and `$$` for a literal dollar. A `$` followed by anything else is an error
 * ("you may need to escape any $ with another $"), as in docker compose.
 */

/** Looks a variable up; undefined means unset (an empty string is set). */
export type VariableLookup = (name: string) => string | undefined;

export class InterpolationError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'InterpolationError';
  }
}

export interface InterpolateOptions {
  /** Called once per unset variable substituted by an empty string. */
  onMissing?: (name: string) => void;
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

/** Substitutes every variable in `template`; throws InterpolationError on bad syntax or a `?` variable unset. */
export function interpolateString(template: string, lookup: VariableLookup, options: InterpolateOptions = {}): string {
  if (!template.includes('$')) return template;
  let out = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i];
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = template[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '{') {
      const end = findClosingBrace(template, i + 2);
      if (end < 0) throw invalidFormat(template);
      out += substituteBraced(template.slice(i + 2, end), template, lookup, options);
      i = end + 1;
    } else if (next !== undefined && NAME_START.test(next)) {
      let j = i + 2;
      while (j < template.length && NAME_CHAR.test(template[j])) j++;
      out += resolve(template.slice(i + 1, j), lookup, options);
      i = j;
    } else {
      throw invalidFormat(template);
    }
  }
  return out;
}

function invalidFormat(template: string): InterpolationError {
  return new InterpolationError(
    `invalid interpolation format for ${JSON.stringify(template)}`,
    'you may need to escape any $ with another $',
  );
}

/** Index of the `}` closing a `${` whose body starts at `from`, skipping nested `${…}`; -1 if none. */
function findClosingBrace(s: string, from: number): number {
  let depth = 1;
  for (let i = from; i < s.length; i++) {
    if (s[i] === '$' && s[i + 1] === '$') {
      i++;
    } else if (s[i] === '$' && s[i + 1] === '{') {
      depth++;
      i++;
    } else if (s[i] === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function resolve(name: string, lookup: VariableLookup, options: InterpolateOptions): string {
  const value = lookup(name);
  if (value === undefined) {
    options.onMissing?.(name);
    return '';
  }
  return value;
}

function substituteBraced(body: string, template: string, lookup: VariableLookup, options: InterpolateOptions): string {
  if (body.length === 0 || !NAME_START.test(body[0])) throw invalidFormat(template);
  let j = 1;
  while (j < body.length && NAME_CHAR.test(body[j])) j++;
  const name = body.slice(0, j);
  if (j === body.length) return resolve(name, lookup, options);
  const colon = body[j] === ':';
  const op = body[colon ? j + 1 : j];
  const rest = body.slice(colon ? j + 2 : j + 1);
  if (op !== '-' && op !== '?' && op !== '+') throw invalidFormat(template);
  const value = lookup(name);
  // With a colon an empty value counts as unset.
  const isSet = colon ? value !== undefined && value !== '' : value !== undefined;
  const word = () => interpolateString(rest, lookup, options);
  switch (op) {
    case '-':
      return isSet ? (value as string) : word();
    case '+':
      return isSet ? word() : '';
    default: {
      if (isSet) return value as string;
      const why = word();
      throw new InterpolationError(
        `required variable ${name} is missing a value${why ? `: ${why}` : ''}`,
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
      problems.push({ path, message: e.message, hint: e.hint });
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

/** Escapes a literal string so that interpolation gives it back unchanged. */
export function escapeInterpolation(s: string): string {
  return s.replaceAll('$', '$$$$');
}
