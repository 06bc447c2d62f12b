// The functions a template may call: Go's builtins (and, or, not, len, index, slice, print, printf,
// println, eq, ne, lt, le, gt, ge, html, js, urlquery, call) and docker's (json, join, split, upper,
// lower, title, pad, truncate). A function fails by throwing FuncError; the executor adds the position.
import { sprintf } from './printf.js';
import { kindOf, sprintAll, sprintln, text, truth } from './value.js';

export class FuncError extends Error {}

interface Func {
  /** Exact argument count, or [min, max] (max Infinity for variadic). */
  arity: number | [number, number];
  fn: (...args: unknown[]) => unknown;
}

function basicKind(v: unknown): 'number' | 'string' | 'boolean' | 'nil' | undefined {
  if (v === undefined || v === null) return 'nil';
  const t = typeof v;
  return t === 'number' || t === 'string' || t === 'boolean' ? t : undefined;
}

function equal(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (!ka || !kb) throw new FuncError(`error calling eq: non-comparable type ${kindOf(!ka ? a : b)}`);
  if (ka === 'nil' || kb === 'nil') return ka === kb;
  if (ka !== kb) throw new FuncError('error calling eq: incompatible types for comparison');
  return a === b;
}

function less(name: string, a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if ((ka !== 'number' && ka !== 'string') || ka !== kb)
    throw new FuncError(`error calling ${name}: incompatible types for comparison`);
  return (a as number) < (b as number);
}

function length(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (v && typeof v === 'object') return Object.keys(v).length;
  throw new FuncError(`error calling len: len of type ${kindOf(v)}`);
}

function indexOne(v: unknown, k: unknown): unknown {
  if (v === undefined || v === null) throw new FuncError('error calling index: index of untyped nil');
  if (Array.isArray(v) || typeof v === 'string') {
    if (typeof k !== 'number' || !Number.isInteger(k))
      throw new FuncError(`error calling index: cannot index slice/array with type ${kindOf(k)}`);
    if (k < 0 || k >= v.length) throw new FuncError(`error calling index: index out of range: ${k}`);
    return typeof v === 'string' ? v.charCodeAt(k) : v[k];
  }
  if (typeof v === 'object') return (v as Record<string, unknown>)[String(k)];
  throw new FuncError(`error calling index: can't index item of type ${kindOf(v)}`);
}

function sliceOf(v: unknown, ...idx: unknown[]): unknown {
  if (typeof v !== 'string' && !Array.isArray(v))
    throw new FuncError(`error calling slice: can't slice item of type ${kindOf(v)}`);
  const [i = 0, j = v.length] = idx as number[];
  if (idx.some((x) => typeof x !== 'number' || !Number.isInteger(x)))
    throw new FuncError('error calling slice: cannot index slice/array with nonint');
  if (i < 0 || j < i || j > v.length) throw new FuncError(`error calling slice: index out of range: ${j}`);
  return v.slice(i, j);
}

function title(s: string): string {
  return s.replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, sep: string, c: string) => sep + c.toUpperCase());
}

const HTML: Record<string, string> = {
  '<': '&lt;',
  '>': '&gt;',
  '&': '&amp;',
  "'": '&#39;',
  '"': '&#34;',
  '\0': '\uFFFD',
};

export const FUNCS: Record<string, Func> = {
  not: { arity: 1, fn: (v) => !truth(v) },
  len: { arity: 1, fn: length },
  index: { arity: [1, Number.POSITIVE_INFINITY], fn: (v, ...keys) => keys.reduce(indexOne, v) },
  slice: { arity: [1, 4], fn: sliceOf },
  print: { arity: [0, Number.POSITIVE_INFINITY], fn: (...a) => sprintAll(a) },
  println: { arity: [0, Number.POSITIVE_INFINITY], fn: (...a) => sprintln(a) },
  printf: {
    arity: [1, Number.POSITIVE_INFINITY],
    fn: (f, ...a) => {
      if (typeof f !== 'string') throw new FuncError(`wrong type for value; expected string; got ${kindOf(f)}`);
      return sprintf(f, a);
    },
  },
  eq: {
    arity: [2, Number.POSITIVE_INFINITY],
    fn: (a, ...bs) => bs.some((b) => equal(a, b)),
  },
  ne: { arity: 2, fn: (a, b) => !equal(a, b) },
  lt: { arity: 2, fn: (a, b) => less('lt', a, b) },
  le: { arity: 2, fn: (a, b) => less('le', a, b) || equal(a, b) },
  gt: { arity: 2, fn: (a, b) => !less('gt', a, b) && !equal(a, b) },
  ge: { arity: 2, fn: (a, b) => !less('ge', a, b) },
  html: { arity: [0, Number.POSITIVE_INFINITY], fn: (...a) => sprintAll(a).replace(/[<>&'"\0]/g, (c) => HTML[c]) },
  js: {
    arity: [0, Number.POSITIVE_INFINITY],
    fn: (...a) => JSON.stringify(sprintAll(a)).slice(1, -1).replace(/'/g, "\\'").replace(/</g, '\\u003C'),
  },
  urlquery: { arity: [0, Number.POSITIVE_INFINITY], fn: (...a) => encodeURIComponent(sprintAll(a)) },
  call: {
    arity: [1, Number.POSITIVE_INFINITY],
    fn: (f, ...a) => {
      if (typeof f !== 'function') throw new FuncError(`error calling call: non-function of type ${kindOf(f)}`);
      return (f as (...x: unknown[]) => unknown)(...a);
    },
  },
  // docker's additions (cli/templates)
  json: { arity: 1, fn: (v) => JSON.stringify(v ?? null) },
  join: {
    arity: 2,
    fn: (v, sep) => (Array.isArray(v) ? v.map(text).join(text(sep)) : text(v)),
  },
  split: { arity: 2, fn: (s, sep) => text(s).split(text(sep)) },
  upper: { arity: 1, fn: (v) => text(v).toUpperCase() },
  lower: { arity: 1, fn: (v) => text(v).toLowerCase() },
  title: { arity: 1, fn: (v) => title(text(v)) },
  pad: {
    arity: 3,
    fn: (v, l, r) => `${' '.repeat(Math.max(0, Number(l) || 0))}${text(v)}${' '.repeat(Math.max(0, Number(r) || 0))}`,
  },
  truncate: {
    arity: 2,
    fn: (v, n) => {
      const s = text(v);
      return s.length > Number(n) ? s.slice(0, Math.max(0, Number(n))) : s;
    },
  },
};

/** `and` and `or` evaluate their arguments lazily, so the executor runs them itself. */
export const LAZY = new Set(['and', 'or']);

export function isFunction(name: string): boolean {
  return Object.hasOwn(FUNCS, name) || LAZY.has(name);
}

/** Calls a function after checking its argument count, as Go does at run time. */
export function callFunction(name: string, args: unknown[]): unknown {
  const f = FUNCS[name];
  const [min, max] = typeof f.arity === 'number' ? [f.arity, f.arity] : f.arity;
  if (args.length < min || args.length > max) {
    const want = min === max ? String(min) : max === Number.POSITIVE_INFINITY ? `at least ${min}` : `${min} to ${max}`;
    throw new FuncError(`wrong number of args for ${name}: want ${want} got ${args.length}`);
  }
  return f.fn(...args);
}
