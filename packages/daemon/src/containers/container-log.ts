/**
 * A container's output in docker's json-file format, one JSON object a line:
 * {"log":"text\n","stream":"stdout","time":"2024-01-01T00:00:00.123456789Z"}. The shim appends;
 * the daemon reads, tails and follows it. Survives daemon restarts as it is only a file.
 */
import { once } from 'node:events';
import { type FSWatcher, type WriteStream, createWriteStream, watch } from 'node:fs';
import { open, stat } from 'node:fs/promises';

export type LogStream = 'stdout' | 'stderr';

export interface LogEntry {
  stream: LogStream;
  log: string;
  /** RFC 3339 with nanoseconds. */
  time: string;
  /** Raw bytes of live (not line-split) output, which may end mid-character; `log` is then empty. */
  bytes?: Buffer;
}

/** The current time as docker writes it: RFC 3339 with nine fractional digits. */
export function rfc3339Nano(ms = Date.now(), extraNs = process.hrtime.bigint() % 1_000_000n): string {
  const iso = new Date(ms).toISOString(); // 2024-01-01T00:00:00.123Z
  return `${iso.slice(0, 23)}${extraNs.toString().padStart(6, '0')}Z`;
}

/** Milliseconds since the epoch of an RFC 3339 time (sub-millisecond digits dropped). */
export function parseLogTime(time: string): number {
  return Date.parse(time.replace(/(\.\d{3})\d+/, '$1'));
}

/** Appends output to a json-file log, splitting it into lines as docker does. */
export class ContainerLogWriter {
  private readonly out: WriteStream;
  private readonly partial: Record<LogStream, string> = { stdout: '', stderr: '' };

  constructor(readonly path: string) {
    this.out = createWriteStream(path, { flags: 'a', mode: 0o640 });
    this.out.on('error', () => {});
  }

  write(stream: LogStream, chunk: Buffer | string): void {
    const text = this.partial[stream] + chunk.toString();
    const lines = text.split('\n');
    this.partial[stream] = lines.pop() ?? '';
    for (const line of lines) this.emit(stream, `${line}\n`);
    // docker cuts lines at 16 KiB; keep memory bounded the same way.
    if (this.partial[stream].length >= 16 * 1024) {
      this.emit(stream, this.partial[stream]);
      this.partial[stream] = '';
    }
  }

  private emit(stream: LogStream, log: string): void {
    this.out.write(`${JSON.stringify({ log, stream, time: rfc3339Nano() })}\n`);
  }

  async close(): Promise<void> {
    for (const s of ['stdout', 'stderr'] as const) if (this.partial[s]) this.emit(s, this.partial[s]);
    this.out.end();
    await once(this.out, 'close').catch(() => {});
  }
}

export interface ReadLogOptions {
  /** Lines from the end (after the stream and time filters); undefined or negative: all. */
  tail?: number;
  sinceMs?: number;
  untilMs?: number;
  streams?: ReadonlySet<LogStream>;
}

function parseLines(text: string): LogEntry[] {
  const out: LogEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const e = JSON.parse(line) as LogEntry;
      if (typeof e.log === 'string' && (e.stream === 'stdout' || e.stream === 'stderr')) out.push(e);
    } catch {
      /* a torn last line of a crashed writer: skip */
    }
  }
  return out;
}

function keep(e: LogEntry, o: ReadLogOptions): boolean {
  if (o.streams && !o.streams.has(e.stream)) return false;
  if (o.sinceMs || o.untilMs) {
    const t = parseLogTime(e.time);
    if (o.sinceMs && t < o.sinceMs) return false;
    if (o.untilMs && t > o.untilMs) return false;
  }
  return true;
}

/** Reads the whole log from `offset` and returns the complete lines and the offset after them. */
async function readFrom(path: string, offset: number): Promise<{ entries: LogEntry[]; offset: number }> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return { entries: [], offset };
  try {
    const { size } = await fh.stat();
    if (size <= offset) return { entries: [], offset };
    const buf = Buffer.alloc(size - offset);
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
    const text = buf.subarray(0, bytesRead).toString('utf8');
    const end = text.lastIndexOf('\n');
    if (end < 0) return { entries: [], offset };
    return { entries: parseLines(text.slice(0, end + 1)), offset: offset + Buffer.byteLength(text.slice(0, end + 1)) };
  } finally {
    await fh.close();
  }
}

/** The size of the log now: where a follower of only new output starts. */
export async function logSize(path: string): Promise<number> {
  return (await stat(path).catch(() => undefined))?.size ?? 0;
}

export interface FollowLogOptions extends ReadLogOptions {
  /** Start here (bytes) instead of at the beginning; `tail` then does not apply. */
  fromOffset?: number;
  follow?: boolean;
  /** Following ends (after a last read) when this resolves: the container stopped. */
  until?: Promise<unknown>;
  signal?: AbortSignal;
  pollMs?: number;
}

/**
 * Wakes a follower as soon as the log grows (inotify through fs.watch) or `until` settles, and at
 * the latest after pollMs (a file replaced or a watch the platform cannot give).
 */
function logWaker(path: string, until: Promise<unknown> | undefined, signal: AbortSignal | undefined) {
  let wake: (() => void) | undefined;
  // A change while nobody waits (between two reads) makes the next wait return at once.
  let missed = false;
  const nudge = () => {
    const w = wake;
    wake = undefined;
    if (w) w();
    else missed = true;
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(path, { persistent: false }, nudge);
    watcher.on('error', () => {});
  } catch {
    /* no such file yet, or no watch here: polling alone */
  }
  void until?.then(nudge, nudge);
  return {
    wait: (pollMs: number) =>
      new Promise<void>((resolve) => {
        if (missed) {
          missed = false;
          return resolve();
        }
        const timer = setTimeout(nudge, pollMs);
        const onAbort = () => nudge();
        signal?.addEventListener('abort', onAbort, { once: true });
        wake = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
      }),
    close: () => watcher?.close(),
  };
}

/** The stored entries (filtered and tailed), then with `follow` new entries as they are written. */
export async function* readContainerLog(path: string, o: FollowLogOptions = {}): AsyncGenerator<LogEntry> {
  let { entries, offset } = await readFrom(path, o.fromOffset ?? 0);
  entries = entries.filter((e) => keep(e, o));
  if (o.fromOffset === undefined && o.tail !== undefined && o.tail >= 0)
    entries = entries.slice(-o.tail || entries.length);
  if (o.fromOffset === undefined && o.tail === 0) entries = [];
  yield* entries;
  if (!o.follow) return;
  let ended = false;
  void o.until?.then(
    () => {
      ended = true;
    },
    () => {
      ended = true;
    },
  );
  const waker = logWaker(path, o.until, o.signal);
  try {
    while (!o.signal?.aborted) {
      const wasEnded = ended;
      const next = await readFrom(path, offset);
      offset = next.offset;
      for (const e of next.entries) if (keep(e, o)) yield e;
      if (wasEnded) return;
      await waker.wait(o.pollMs ?? 250);
    }
  } finally {
    waker.close();
  }
}
