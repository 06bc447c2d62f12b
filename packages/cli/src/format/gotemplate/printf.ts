// fmt.Sprintf for templates: the verbs docker users write (%s %d %v %q %f %x %t %%), with flags, width
// and precision; bad or missing operands are written inline as Go does (`%!d(string=x)`, `%!s(MISSING)`).
import { kindOf, sprintAll, text } from './value.js';

const VERB = /%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*)?)?([a-zA-Z%])/g;

function pad(s: string, width: number | undefined, flags: string, numeric: boolean): string {
  if (width === undefined || s.length >= width) return s;
  if (flags.includes('-')) return s.padEnd(width);
  if (flags.includes('0') && numeric) {
    const sign = /^[+-]/.test(s) ? s[0] : '';
    return sign + s.slice(sign.length).padStart(width - sign.length, '0');
  }
  return s.padStart(width);
}

function signed(s: string, n: number, flags: string): string {
  if (n >= 0 && flags.includes('+')) return `+${s}`;
  if (n >= 0 && flags.includes(' ')) return ` ${s}`;
  return s;
}

/** Go's exponent has at least two digits: 1e+00. */
function goExp(s: string): string {
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

function bad(verb: string, v: unknown): string {
  return `%!${verb}(${kindOf(v)}=${text(v)})`;
}

function formatNumber(verb: string, v: number, prec: number | undefined, flags: string): string | undefined {
  switch (verb) {
    case 'd':
      return Number.isInteger(v) ? signed(String(v), v, flags) : undefined;
    case 'f':
    case 'F':
      return signed(v.toFixed(prec ?? 6), v, flags);
    case 'e':
    case 'E': {
      const s = goExp(v.toExponential(prec ?? 6));
      return signed(verb === 'E' ? s.toUpperCase() : s, v, flags);
    }
    case 'g':
    case 'G': {
      const s = prec === undefined ? String(v) : goExp(Number(v.toPrecision(prec || 1)).toString());
      return signed(verb === 'G' ? s.toUpperCase() : s, v, flags);
    }
    case 'x':
    case 'X':
    case 'o':
    case 'b': {
      if (!Number.isInteger(v)) return undefined;
      const radix = { x: 16, X: 16, o: 8, b: 2 }[verb] as number;
      const digits = Math.abs(v).toString(radix);
      const prefix = flags.includes('#') ? { x: '0x', X: '0X', o: '0', b: '0b' }[verb] : '';
      const s = `${v < 0 ? '-' : ''}${prefix}${verb === 'X' ? digits.toUpperCase() : digits}`;
      return signed(s, v, flags);
    }
    case 'c':
      return Number.isInteger(v) && v >= 0 && v <= 0x10ffff ? String.fromCodePoint(v) : undefined;
    case 'U':
      return Number.isInteger(v) && v >= 0 ? `U+${v.toString(16).toUpperCase().padStart(4, '0')}` : undefined;
    default:
      return undefined;
  }
}

function formatOne(verb: string, v: unknown, prec: number | undefined, flags: string): string {
  if (verb === 'v' || (verb === 's' && typeof v !== 'number' && typeof v !== 'boolean')) {
    const s = v === undefined ? '<nil>' : sprintAll([v]);
    return verb === 's' && prec !== undefined ? s.slice(0, prec) : s;
  }
  if (verb === 'q') return typeof v === 'string' ? JSON.stringify(v) : bad(verb, v);
  if (verb === 't') return typeof v === 'boolean' ? String(v) : bad(verb, v);
  if (typeof v === 'string' && (verb === 'x' || verb === 'X')) {
    const hex = Buffer.from(v).toString('hex');
    return verb === 'X' ? hex.toUpperCase() : hex;
  }
  if (typeof v === 'number') return formatNumber(verb, v, prec, flags) ?? bad(verb, v);
  return bad(verb, v);
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: readonly unknown[]): string {
  let next = 0;
  const take = (): { ok: boolean; v?: unknown } => (next < args.length ? { ok: true, v: args[next++] } : { ok: false });
  let out = format.replace(VERB, (_all, flags: string, w?: string, p?: string, verb?: string) => {
    if (verb === '%') return '%';
    let width = w === undefined ? undefined : Number(w);
    let prec = p === undefined ? (_all.includes('.') ? 0 : undefined) : Number(p);
    if (w === '*') {
      const a = take();
      width = typeof a.v === 'number' ? a.v : undefined;
    }
    if (p === '*') {
      const a = take();
      prec = typeof a.v === 'number' ? a.v : undefined;
    }
    const a = take();
    if (!a.ok) return `%!${verb}(MISSING)`;
    const numeric = typeof a.v === 'number';
    return pad(formatOne(verb as string, a.v, prec, flags), width, flags, numeric);
  });
  if (next < args.length)
    out += `%!(EXTRA ${args
      .slice(next)
      .map((a) => `${kindOf(a)}=${text(a)}`)
      .join(', ')})`;
  return out;
}
