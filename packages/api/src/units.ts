/**
 * Units as docker writes and reads them: sizes (go-units RAMInBytes, HumanSize, BytesSize), Go durations
 * (time.ParseDuration, Duration.String) and docker's human durations (units.HumanDuration, "Up 5 minutes",
 * "About an hour ago"). Pure functions with no dependency, shared by hypr, hyprd and @hypr/core
 * (import them from `@hypr/api/units`). Parsers return undefined for text that is not a value; callers
 * turn that into an error naming their flag or key.
 */

const BINARY: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** The largest size docker accepts (int64); a parsed size at or above it does not fit. */
export const MAX_SIZE_BYTES = 2 ** 63 - 1;

/**
 * A size as docker reads memory, shm and tmpfs sizes (go-units RAMInBytes, 1024-based): `512m`, `1.5GiB`,
 * `2g`, `100kb`, `65536`. Undefined when malformed; may exceed MAX_SIZE_BYTES (check it where it matters).
 */
export function parseSizeBytes(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp]?)(?:i?b)?$/i.exec(value.trim());
  if (!m) return undefined;
  return Math.floor(Number.parseFloat(m[1]) * BINARY[m[2].toLowerCase()]);
}

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

function scaled(bytes: number, base: number, units: readonly string[], precision: number): string {
  let v = bytes;
  let i = 0;
  while (v >= base && i < units.length - 1) {
    v /= base;
    i++;
  }
  return `${Number(v.toPrecision(precision))}${units[i]}`;
}

/** go-units HumanSize: decimal units with `precision` significant digits (3 as `docker images` shows: "4.26MB"). */
export function humanSize(bytes: number, precision = 3): string {
  return scaled(bytes, 1000, DECIMAL_UNITS, precision);
}

/** go-units BytesSize: binary units, four significant digits, as `docker stats` shows memory ("1.5GiB"). */
export function bytesSize(bytes: number): string {
  return scaled(bytes, 1024, BINARY_UNITS, 4);
}

const NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration (`1h30m`, `1.5s`, `500ms`, `-2m`, `0`) in nanoseconds; undefined when malformed. */
export function parseDurationNs(text: string): number | undefined {
  const s = text.trim();
  if (s === '0' || s === '+0' || s === '-0') return 0;
  let i = 0;
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    sign = s[0] === '-' ? -1 : 1;
    i = 1;
  }
  if (i >= s.length) return undefined;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m) return undefined;
    total += Number.parseFloat(m[1]) * NS[m[2]];
    i = re.lastIndex;
  }
  return sign * Math.round(total);
}

/** A Go duration in milliseconds (fractions kept: `1500us` is 1.5); undefined when malformed. */
export function parseDurationMs(text: string): number | undefined {
  const ns = parseDurationNs(text);
  return ns === undefined ? undefined : ns / 1e6;
}

function trimFloat(x: number): string {
  return Number.parseFloat(x.toFixed(9)).toString();
}

/** Go's Duration.String(): `1m30s`, `1.5s`, `100ms`, `1h0m0s`, `0s`. */
export function formatDurationNs(ns: number): string {
  if (ns === 0) return '0s';
  let n = Math.abs(ns);
  let out: string;
  if (n < 1e9) {
    const [unit, size] = n < 1e3 ? ['ns', 1] : n < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    out = `${trimFloat(n / (size as number))}${unit}`;
  } else {
    const h = Math.floor(n / 3600e9);
    n -= h * 3600e9;
    const m = Math.floor(n / 60e9);
    n -= m * 60e9;
    const s = `${trimFloat(n / 1e9)}s`;
    out = h > 0 ? `${h}h${m}m${s}` : m > 0 ? `${m}m${s}` : s;
  }
  return ns < 0 ? `-${out}` : out;
}

/** go-units HumanDuration, as in docker's "Up 5 minutes" and "About an hour ago". */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3_600_000 / 24 / 365)} years`;
}

/** How long ago `thenMs` was, as docker's CreatedSince/RunningFor: "5 minutes ago". */
export function humanAgo(thenMs: number, nowMs = Date.now()): string {
  return `${humanDuration(nowMs - thenMs)} ago`;
}

/** Go's time.Time String of a moment in UTC, as docker prints CreatedAt: `2024-05-01 12:00:00 +0000 UTC`. */
export function goTime(ms: number): string {
  const d = new Date(ms).toISOString();
  return `${d.slice(0, 10)} ${d.slice(11, 19)} +0000 UTC`;
}
