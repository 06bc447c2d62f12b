/**
 * `--flags` of instructions as BuildKit's BFlags reads them: the flags each keyword accepts, booleans,
 * repeated (list) flags, duplicates refused; Go durations for HEALTHCHECK; and the argument counts
 * instructions require. Errors are DockerfileErrors at the instruction.
 */
import { type ErrorCode, suggest } from '../errors.js';
import { DockerfileError } from './errors.js';
import type { WordExpander } from './instruction-types.js';
import type { DockerfileKeyword, DockerfileNode } from './parser.js';

type FlagKind = 'string' | 'bool' | 'list';
const FLAG_SPECS: Partial<Record<DockerfileKeyword, Record<string, FlagKind>>> = {
  FROM: { platform: 'string' },
  RUN: { mount: 'list', network: 'string', security: 'string' },
  COPY: { from: 'string', chown: 'string', chmod: 'string', link: 'bool', parents: 'bool', exclude: 'list' },
  ADD: {
    chown: 'string',
    chmod: 'string',
    checksum: 'string',
    link: 'bool',
    'keep-git-dir': 'bool',
    unpack: 'bool',
    exclude: 'list',
  },
  HEALTHCHECK: {
    interval: 'string',
    timeout: 'string',
    'start-period': 'string',
    'start-interval': 'string',
    retries: 'string',
  },
};

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

export function failAt(
  node: DockerfileNode,
  file: string | undefined,
  code: ErrorCode,
  message: string,
  hint?: string,
): never {
  throw new DockerfileError(code, message, file, node.line, node.column, hint);
}

/** Checks flags against the instruction's spec (BuildKit's BFlags rules). */
export function readFlags(node: DockerfileNode, file: string | undefined): FlagValues {
  const spec = FLAG_SPECS[node.keyword] ?? {};
  const out: FlagValues = {};
  for (const f of node.flags) {
    const kind = spec[f.name];
    if (!kind) {
      const names = Object.keys(spec);
      const guess = suggest(f.name, names);
      failAt(
        node,
        file,
        'DOCKERFILE_UNKNOWN_FLAG',
        `unknown flag: --${f.name}${guess ? ` (did you mean --${guess}?)` : ''}`,
        names.length
          ? `${node.keyword} accepts ${names.map((n) => `--${n}`).join(', ')}`
          : `${node.keyword} takes no flags`,
      );
    }
    if (kind === 'bool') {
      if (f.value !== undefined && !/^(true|false)$/i.test(f.value)) {
        failAt(node, file, 'DOCKERFILE_BAD_FLAG', `expecting boolean value for flag ${f.name}, not: ${f.value}`);
      }
      if (out[f.name] !== undefined) failAt(node, file, 'DOCKERFILE_BAD_FLAG', `Duplicate flag specified: --${f.name}`);
      out[f.name] = f.value === undefined || f.value.toLowerCase() === 'true';
      continue;
    }
    if (f.value === undefined) {
      failAt(node, file, 'DOCKERFILE_BAD_FLAG', `Missing a value on flag: --${f.name}`, `write --${f.name}=VALUE`);
    }
    if (kind === 'list') {
      const list = (out[f.name] as string[] | undefined) ?? [];
      list.push(f.value);
      out[f.name] = list;
    } else {
      if (out[f.name] !== undefined) failAt(node, file, 'DOCKERFILE_BAD_FLAG', `Duplicate flag specified: --${f.name}`);
      out[f.name] = f.value;
    }
  }
  return out;
}

/** Go's time.ParseDuration, in milliseconds. */
export function parseGoDurationMs(text: string): number | undefined {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let pos = 0;
  if (text === '') return undefined;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return undefined;
    total += Number.parseFloat(m[1]) * units[m[2]];
    pos = re.lastIndex;
  }
  return total;
}

export function durationFlag(
  flags: FlagValues,
  name: string,
  node: DockerfileNode,
  file: string | undefined,
  expand: WordExpander,
): number | undefined {
  const raw = flags[name];
  if (typeof raw !== 'string') return undefined;
  const ms = parseGoDurationMs(expand(raw));
  if (ms === undefined)
    failAt(
      node,
      file,
      'DOCKERFILE_BAD_FLAG',
      `invalid duration for --${name}: ${raw}`,
      'write a duration such as 30s, 1m30s or 500ms',
    );
  if (ms !== 0 && ms < 1) failAt(node, file, 'DOCKERFILE_BAD_FLAG', `${name} "${raw}" cannot be less than 1ms`);
  return ms;
}

export function requireArgs(node: DockerfileNode, file: string | undefined, min: number, exact = false): void {
  const n = node.args.length;
  if (exact && n !== min) {
    failAt(
      node,
      file,
      'DOCKERFILE_ARGUMENT_COUNT',
      `${node.keyword} requires exactly ${min === 1 ? 'one argument' : `${min} arguments`}`,
    );
  }
  if (n < min) {
    failAt(
      node,
      file,
      'DOCKERFILE_MISSING_ARGUMENT',
      min === 1
        ? `${node.keyword} requires at least one argument`
        : `${node.keyword} requires at least two arguments, but only one was provided. Destination could not be determined`,
    );
  }
}
