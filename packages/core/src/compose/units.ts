/** Durations and sizes as compose writes them (Go's time.ParseDuration, docker's go-units). */

const DURATION_UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Parses a Go duration (`1m30s`, `1.5s`, `100ms`, `0`) into nanoseconds; undefined if malformed. */
export function parseDurationNs(text: string): number | undefined {
  const s = text.trim();
  if (s === '0' || s === '+0' || s === '-0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let i = 0;
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    sign = s[0] === '-' ? -1 : 1;
    i = 1;
  }
  if (i >= s.length) return undefined;
  let total = 0;
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m) return undefined;
    total += Number.parseFloat(m[1]) * DURATION_UNITS[m[2]];
    i = re.lastIndex;
  }
  return sign * Math.round(total);
}

/** Formats nanoseconds as Go's Duration.String() does: `1m30s`, `1.5s`, `100ms`, `1h0m0s`, `0s`. */
export function formatDurationNs(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let n = Math.abs(ns);
  let out: string;
  if (n < 1e9) {
    const [unit, size] = n < 1e3 ? ['ns', 1] : n < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    out = `${trimFloat(n / size)}${unit}`;
  } else {
    const h = Math.floor(n / 3600e9);
    n -= h * 3600e9;
    const m = Math.floor(n / 60e9);
    n -= m * 60e9;
    const s = `${trimFloat(n / 1e9)}s`;
    out = h > 0 ? `${h}h${m}m${s}` : m > 0 ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}

function trimFloat(x: number): string {
  return Number.parseFloat(x.toFixed(9)).toString();
}

/** Canonical form of a duration string, or undefined if it is not one. */
export function normalizeDuration(text: string): string | undefined {
  const ns = parseDurationNs(text);
  return ns === undefined ? undefined : formatDurationNs(ns);
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** Parses a size as docker does for memory (`512m`, `1g`, `1.5GiB`, `2048`, `100kb`): bytes, 1024-based. */
export function parseBytes(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
  const m = /^(\d+(?:\.\d+)?) ?([kKmMgGtTpP]?)[iI]?[bB]?$/.exec(value.trim());
  if (!m) return undefined;
  return Math.floor(Number.parseFloat(m[1]) * SIZE_UNITS[m[2].toLowerCase()]);
}
