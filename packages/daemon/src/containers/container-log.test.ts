import { getEventListeners } from 'node:events';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { ContainerLogWriter, type LogEntry, parseLogTime, readContainerLog, rfc3339Nano } from './container-log.js';

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hypr-log-'));
  path = join(dir, 'container.log');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const line = (log: string, stream = 'stdout', time = '2024-01-01T00:00:00.000000000Z') =>
  `${JSON.stringify({ log, stream, time })}\n`;
const collect = async (it: AsyncIterable<LogEntry>) => {
  const out: string[] = [];
  for await (const e of it) out.push(`${e.stream}:${e.log}`);
  return out;
};

test('times are RFC 3339 with nine fractional digits, as docker writes them', () => {
  const t = rfc3339Nano(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
  expect(t).toMatch(/^2024-01-02T03:04:05\.678\d{6}Z$/);
  expect(parseLogTime(t)).toBe(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
});

test('the writer splits output into lines per stream and flushes a partial line at close', async () => {
  const w = new ContainerLogWriter(path);
  w.write('stdout', 'a\nb');
  w.write('stderr', 'err\n');
  w.write('stdout', 'c\n');
  w.write('stdout', 'tail');
  await w.close();
  expect(await collect(readContainerLog(path))).toEqual(['stdout:a\n', 'stderr:err\n', 'stdout:bc\n', 'stdout:tail']);
});

test('tail, since, until and stream filters', async () => {
  appendFileSync(path, line('1\n', 'stdout', '2024-01-01T00:00:01.000000000Z'));
  appendFileSync(path, line('2\n', 'stderr', '2024-01-01T00:00:02.000000000Z'));
  appendFileSync(path, line('3\n', 'stdout', '2024-01-01T00:00:03.000000000Z'));
  expect(await collect(readContainerLog(path, { tail: 2 }))).toEqual(['stderr:2\n', 'stdout:3\n']);
  expect(await collect(readContainerLog(path, { tail: 0 }))).toEqual([]);
  expect(await collect(readContainerLog(path, { sinceMs: Date.UTC(2024, 0, 1, 0, 0, 2) }))).toEqual([
    'stderr:2\n',
    'stdout:3\n',
  ]);
  expect(await collect(readContainerLog(path, { untilMs: Date.UTC(2024, 0, 1, 0, 0, 1) }))).toEqual(['stdout:1\n']);
  expect(await collect(readContainerLog(path, { streams: new Set(['stdout'] as const) }))).toEqual([
    'stdout:1\n',
    'stdout:3\n',
  ]);
});

test('a torn last line (a writer killed mid-write) is not shown until it is complete', async () => {
  appendFileSync(path, `${line('whole\n')}{"log":"ha`);
  expect(await collect(readContainerLog(path))).toEqual(['stdout:whole\n']);
});

test('follow yields lines as they are appended and ends after the last read once `until` settles', async () => {
  appendFileSync(path, line('before\n'));
  let stop: () => void = () => {};
  const until = new Promise<void>((r) => {
    stop = r;
  });
  const seen: string[] = [];
  const done = (async () => {
    for await (const e of readContainerLog(path, { follow: true, until, pollMs: 10 })) seen.push(e.log);
  })();
  await new Promise((r) => setTimeout(r, 50));
  appendFileSync(path, line('after\n'));
  appendFileSync(path, line('last\n'));
  stop();
  await done;
  expect(seen).toEqual(['before\n', 'after\n', 'last\n']);
});

test('following a log for many polls leaves no abort listener behind', async () => {
  appendFileSync(path, line('first\n'));
  const ac = new AbortController();
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  try {
    let polls = 0;
    const seen: string[] = [];
    const reader = readContainerLog(path, { follow: true, signal: ac.signal, pollMs: 1 });
    const writer = setInterval(() => {
      polls++;
      if (polls % 10 === 0) appendFileSync(path, line(`line ${polls}\n`));
      if (polls === 300) ac.abort();
    }, 1);
    for await (const e of reader) {
      seen.push(e.log);
      // The reader holds at most its current wait's listener, however long it has followed.
      expect(getEventListeners(ac.signal, 'abort').length).toBeLessThanOrEqual(1);
    }
    clearInterval(writer);
    expect(seen[0]).toBe('first\n');
    expect(seen.length).toBeGreaterThan(5);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    await new Promise((r) => setImmediate(r));
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  } finally {
    process.off('warning', onWarning);
  }
});
