// `hypr ps` without oclif, protobuf-es or the Connect client (bin/run.js tries it first): for the flags
// a user types most (-a -q -s -l --no-trunc, short ones combined), one JSON call and the same table as
// commands/ps.ts. Anything else, or any failure before output (no daemon, an error from hyprd, an
// answer it does not read), returns false and the command runs through oclif, which prints the error
// or result as always: ps only reads, so asking twice changes nothing.
import { resolveSocketPath } from '@hypr/api/client-socket';
import { callJson } from './connect-json.js';
import { type PsSource, psIds, psRow, psTable } from './ps-table.js';

export interface FastPsFlags {
  all: boolean;
  quiet: boolean;
  size: boolean;
  latest: boolean;
  noTrunc: boolean;
}

const SHORT: Record<string, keyof FastPsFlags> = { a: 'all', q: 'quiet', s: 'size', l: 'latest' };
const LONG: Record<string, keyof FastPsFlags> = {
  '--all': 'all',
  '--quiet': 'quiet',
  '--size': 'size',
  '--latest': 'latest',
  '--no-trunc': 'noTrunc',
};

/** The flags of `hypr ps ARGS` when the fast path serves them all, else undefined. */
export function parseFastPsArgs(args: readonly string[]): FastPsFlags | undefined {
  const flags: FastPsFlags = { all: false, quiet: false, size: false, latest: false, noTrunc: false };
  const set = (k: keyof FastPsFlags | undefined) => {
    if (!k || flags[k]) return false;
    flags[k] = true;
    return true;
  };
  for (const a of args) {
    const ok = /^-[a-z]+$/.test(a) ? [...a.slice(1)].every((c) => set(SHORT[c])) : set(LONG[a]);
    if (!ok) return undefined;
  }
  return flags;
}

/** A ContainerSummary from its proto3 JSON (defaults are left out, 64-bit integers are strings). */
export function summaryFromJson(j: Record<string, unknown>): PsSource {
  const text = (v: unknown) => {
    if (v === undefined) return '';
    if (typeof v !== 'string') throw new TypeError(`not a string: ${JSON.stringify(v)}`);
    return v;
  };
  const texts = (v: unknown) => (v === undefined ? [] : (v as unknown[]).map(text));
  const int64 = (v: unknown) => BigInt((v ?? 0) as string);
  const labels = (j.labels ?? {}) as Record<string, unknown>;
  return {
    id: text(j.id),
    name: text(j.name),
    image: text(j.image),
    command: text(j.command),
    createdAt: int64(j.createdAt),
    state: text(j.state),
    status: text(j.status),
    ports: texts(j.ports),
    labels: Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, text(v)])),
    sizeBytes: int64(j.sizeBytes),
    networks: texts(j.networks),
  };
}

/** What `hypr ps FLAGS` prints, from hyprd's answer to containers.list. */
export function renderFastPs(answer: unknown, flags: FastPsFlags, now = Date.now()): string {
  const list = (answer as { containers?: Record<string, unknown>[] }).containers ?? [];
  const containers = list.map(summaryFromJson);
  if (flags.quiet) return containers.length ? `${psIds(containers, flags.noTrunc)}\n` : '';
  return `${psTable(
    containers.map((c) => psRow(c, flags.noTrunc, now)),
    flags.size,
  )}\n`;
}

/** Runs `hypr ps ARGS` if the fast path serves it; false when oclif should. */
export async function fastPs(args: readonly string[]): Promise<boolean> {
  const flags = parseFastPsArgs(args);
  if (!flags) return false;
  let out: string;
  try {
    const request = { all: flags.all, ...(flags.latest ? { last: 1 } : {}) };
    out = renderFastPs(await callJson(resolveSocketPath(), 'hypr.v1.ContainerService', 'List', request), flags);
  } catch {
    return false;
  }
  process.stdout.write(out);
  return true;
}
