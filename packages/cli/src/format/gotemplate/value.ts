// Values in templates as Go sees them: their truth, their kind in messages, and how they print.

/** Go's template truth: false, 0, nil and empty strings, slices and maps are false. */
export function truth(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'string' || Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** The Go kind a value would have, for error messages ("can't evaluate field X in type slice"). */
export function kindOf(v: unknown): string {
  if (v === undefined || v === null) return 'nil';
  if (Array.isArray(v)) return 'slice';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'function') return 'func';
  return 'map';
}

/** fmt.Sprint of one value as text/template prints it: `<no value>` for a missing key, `<nil>`, `[a b]`, `map[k:v]`. */
export function printValue(v: unknown): string {
  if (v === undefined) return '<no value>';
  return sprint(v);
}

function sprint(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(sprint).join(' ')}]`;
  if (typeof v === 'object') {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${sprint((v as Record<string, unknown>)[k])}`).join(' ')}]`;
  }
  return String(v);
}

/** fmt.Sprint of several operands: a space between two operands when neither is a string. */
export function sprintAll(args: readonly unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += sprint(a);
  });
  return out;
}

/** fmt.Sprintln: operands separated by spaces, then a newline. */
export function sprintln(args: readonly unknown[]): string {
  return `${args.map(sprint).join(' ')}\n`;
}

/** The text of a value given to a string function (upper, join, …): strings as they are, others printed. */
export function text(v: unknown): string {
  return typeof v === 'string' ? v : sprint(v);
}
