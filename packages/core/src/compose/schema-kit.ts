/**
 * The building blocks of the compose schemas (schema.ts, schema-service.ts): values typed by their YAML
 * kind with messages in compose's words ("must be a string"), and mappings with known keys where `x-*`
 * extension keys are kept as written and any other key is an error with a did-you-mean.
 */
import { z } from 'zod';
import { suggest } from '../errors.js';

type Kind = 'string' | 'number' | 'boolean' | 'null' | 'array' | 'object';

export function kindOf(v: unknown): Kind {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  const t = typeof v;
  if (t === 'string' || t === 'number' || t === 'boolean') return t;
  return 'object';
}

const KIND_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  null: 'null',
  array: 'a list',
  object: 'a mapping',
  undefined: 'missing',
};

/** Messages in compose's words ("must be a string") rather than zod's. */
export const composeErrorMap: z.ZodErrorMap = (issue, ctx) => {
  switch (issue.code) {
    case z.ZodIssueCode.invalid_type:
      if (issue.received === 'undefined') return { message: 'is required' };
      return { message: `must be ${KIND_NAMES[issue.expected] ?? issue.expected}` };
    case z.ZodIssueCode.invalid_enum_value:
      return { message: `must be one of ${issue.options.join(', ')} (got ${JSON.stringify(issue.received)})` };
    case z.ZodIssueCode.invalid_literal:
      return { message: `must be ${JSON.stringify(issue.expected)}` };
    default:
      return { message: ctx.defaultError };
  }
};

function forward(ctx: z.RefinementCtx, issues: z.ZodIssue[]): void {
  for (const issue of issues)
    ctx.addIssue({ ...issue, code: z.ZodIssueCode.custom, params: (issue as { params?: object }).params });
}

type OutputOf<T> = T extends z.ZodTypeAny ? z.output<T> : never;

/** A value whose accepted schema depends on its YAML type; anything else is "must be <expected>". */
export function byType<B extends Partial<Record<Kind, z.ZodTypeAny>>>(
  branches: B,
  expected: string,
): z.ZodType<OutputOf<B[keyof B]>> {
  return z.any().transform((v, ctx) => {
    const schema = branches[kindOf(v)];
    if (!schema) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be ${expected}` });
      return z.NEVER;
    }
    const r = schema.safeParse(v, { errorMap: composeErrorMap });
    if (!r.success) {
      forward(ctx, r.error.issues);
      return z.NEVER;
    }
    return r.data;
  }) as never;
}

/** A mapping with known keys; `x-*` keys are kept as written, other unknown keys are errors. */
export function obj<S extends z.ZodRawShape>(shape: S, opts: { extensions?: boolean } = {}) {
  const inner = z.object(shape);
  const known = Object.keys(shape);
  const extensions = opts.extensions ?? true;
  return z.any().transform((v, ctx) => {
    if (kindOf(v) !== 'object') {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be a mapping' });
      return z.NEVER;
    }
    let bad = false;
    for (const k of Object.keys(v)) {
      if (Object.hasOwn(shape, k) || (extensions && k.startsWith('x-'))) continue;
      const near = suggest(k, known);
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: [k],
        message: `unknown key ${JSON.stringify(k)}`,
        params: { hint: near ? `did you mean ${JSON.stringify(near)}?` : undefined },
      });
      bad = true;
    }
    const r = inner.safeParse(v, { errorMap: composeErrorMap });
    if (!r.success) {
      forward(ctx, r.error.issues);
      return z.NEVER;
    }
    if (bad) return z.NEVER;
    const out = r.data as z.output<typeof inner>;
    if (extensions) for (const k of Object.keys(v)) if (k.startsWith('x-')) (out as Record<string, unknown>)[k] = v[k];
    return out;
  });
}

export const str = z.string();
export const num = z.number();
export const bool = z.boolean();
export const numOrStr = byType({ number: num, string: str }, 'a number or a string');
export const intOrStr = byType({ number: z.number().int(), string: str }, 'an integer or a string');
export const boolOrStr = byType({ boolean: bool, string: str }, 'a boolean or a string');
export const listOfStrings = z.array(str);
export const stringOrList = byType({ string: str, array: listOfStrings }, 'a string or a list of strings');
export const scalarValue = byType(
  { string: str, number: num, boolean: bool, null: z.null() },
  'a string, a number, a boolean or null',
);
export const listOrDict = byType(
  { object: z.record(scalarValue), array: listOfStrings },
  'a mapping or a list of KEY=VALUE strings',
);
export const stringOrNumberMap = z.record(byType({ string: str, number: num }, 'a string or a number'));
export const command = byType({ null: z.null(), string: str, array: listOfStrings }, 'a string or a list of strings');
export const extraHosts = byType(
  {
    object: z.record(byType({ string: str, array: listOfStrings }, 'an IP address or a list of them')),
    array: listOfStrings,
  },
  'a mapping or a list of HOST:IP strings',
);
export const ulimits = z.record(
  byType(
    { number: z.number().int(), string: str, object: obj({ soft: intOrStr, hard: intOrStr }) },
    'a number or a mapping with soft and hard',
  ),
);

export const external = byType(
  { boolean: bool, string: str, object: obj({ name: str.optional() }) },
  'a boolean or a mapping with name',
);
