/**
 * Docker's command-line conventions that oclif does not have on its own: flags stop at the first
 * argument (the image), so `hypr run IMAGE ls -l` passes `-l` to ls; `--flag=false` for booleans;
 * and docker's value syntaxes (memory sizes, Go durations, env files, restart policies).
 */
import { readFileSync } from 'node:fs';
import { parseDurationMs, parseSizeBytes } from '@hypr/api/units';

export interface FlagShape {
  /** 'boolean' or 'option' (takes a value). */
  type: string;
  char?: string;
  allowNo?: boolean;
}

export type FlagShapes = Record<string, FlagShape>;

function findShort(flags: FlagShapes, c: string): [string, FlagShape] | undefined {
  return Object.entries(flags).find(([, f]) => f.char === c);
}

/**
 * Splits argv at the first positional argument, as docker (pflag with interspersed off) does: the
 * flags before it, then the positional and everything after it verbatim. A `--` before the first
 * positional ends the flags and is dropped.
 */
export function splitAtFirstArg(argv: readonly string[], flags: FlagShapes): { head: string[]; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return { head: argv.slice(0, i), rest: argv.slice(i + 1) };
    if (!a.startsWith('-') || a === '-') return { head: argv.slice(0, i), rest: argv.slice(i) };
    if (a.startsWith('--')) {
      if (a.includes('=')) continue;
      const f = flags[a.slice(2)];
      if (f?.type === 'option') i++;
      continue;
    }
    // -abc: booleans until one that takes a value; the rest of the word, or the next word, is its value
    for (let j = 1; j < a.length; j++) {
      const found = findShort(flags, a[j]);
      if (!found) break;
      if (found[1].type === 'option') {
        if (j === a.length - 1) i++;
        break;
      }
    }
  }
  return { head: [...argv], rest: [] };
}

/** Rewrites `--bool=true|false` (docker accepts it) into what oclif understands. */
export function normalizeBooleans(argv: readonly string[], flags: FlagShapes): string[] {
  const out: string[] = [];
  for (const a of argv) {
    const m = /^--([^=]+)=(true|false|1|0)$/i.exec(a);
    const f = m ? flags[m[1]] : undefined;
    if (m && f?.type === 'boolean') {
      const on = m[2] === 'true' || m[2] === '1';
      if (on) out.push(`--${m[1]}`);
      else if (f.allowNo) out.push(`--no-${m[1]}`);
      continue;
    }
    out.push(a);
  }
  return out;
}

/** Docker's RAMInBytes: `512m`, `1g`, `1.5GB`, `65536` (bytes). */
export function parseMemory(text: string): number {
  const bytes = parseSizeBytes(text);
  if (bytes === undefined) throw new Error(`invalid size: '${text}'`);
  return bytes;
}

/** A Go duration (`30s`, `1m30s`, `500ms`) in milliseconds. A bare `0` is zero. */
export function parseDuration(text: string): number {
  const ms = parseDurationMs(text);
  if (ms === undefined || ms < 0)
    throw new Error(`invalid duration: '${text}' (use a Go duration such as 30s or 1m30s)`);
  return ms;
}

/** `-e K=V` stays; `-e K` takes K from the client's environment and is dropped when unset, as docker does. */
export function resolveEnv(entries: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  for (const e of entries) {
    if (e.includes('=')) {
      if (e.startsWith('=')) throw new Error(`invalid environment variable: ${e}`);
      out.push(e);
    } else if (e && env[e] !== undefined) out.push(`${e}=${env[e]}`);
  }
  return out;
}

/** Parses an --env-file: `K=V` lines, `K` alone taken from the environment, `#` comments and blanks skipped. */
export function parseEnvFile(text: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.replace(/^\s+/, ''))
    .filter((l) => l && !l.startsWith('#'));
  for (const l of lines) {
    const name = l.split('=')[0];
    if (/\s/.test(name)) throw new Error(`variable '${name}' contains whitespaces`);
  }
  return resolveEnv(lines, env);
}

export function readEnvFiles(paths: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  return paths.flatMap((p) => {
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch (e) {
      throw new Error(
        `open ${p}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`,
      );
    }
    return parseEnvFile(text, env);
  });
}

/** `--restart no|always|unless-stopped|on-failure[:N]`. */
export function parseRestartPolicy(text: string): { name: string; maximumRetryCount: number } {
  const [name, count, extra] = text.split(':');
  if (extra !== undefined) throw new Error(`invalid restart policy format: ${text}`);
  if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(name))
    throw new Error(`invalid restart policy '${name}'`);
  if (count !== undefined) {
    if (name !== 'on-failure')
      throw new Error(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
    if (!/^\d+$/.test(count)) throw new Error('invalid restart policy: maximum retry count must be an integer');
  }
  return { name, maximumRetryCount: count ? Number(count) : 0 };
}

/** `-l k=v` and `--label-file` lines into a map (`k` alone is an empty value). */
export function parseLabels(entries: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) {
    const i = e.indexOf('=');
    out[i < 0 ? e : e.slice(0, i)] = i < 0 ? '' : e.slice(i + 1);
  }
  return out;
}

/** `--since`/`--until`: RFC 3339 time, unix seconds, or a Go duration back from now. Returns ms since the epoch. */
export function parseTimestamp(text: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const d = Date.parse(text);
  if (!Number.isNaN(d)) return d;
  return now - parseDuration(text);
}
