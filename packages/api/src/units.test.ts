import { expect, test } from 'vitest';
import {
  MAX_SIZE_BYTES,
  bytesSize,
  formatDurationNs,
  goTime,
  humanAgo,
  humanDuration,
  humanSize,
  parseDurationMs,
  parseDurationNs,
  parseSizeBytes,
} from './units.js';

test.each([
  ['512m', 512 * 1024 ** 2],
  ['64M', 64 * 1024 ** 2],
  ['2g', 2 * 1024 ** 3],
  ['1.5GiB', 1.5 * 1024 ** 3],
  ['1.5GB', 1.5 * 1024 ** 3],
  ['100kb', 100 * 1024],
  ['1 m', 1024 ** 2],
  ['65536', 65536],
  ['256mb', 256 * 1024 ** 2],
])('size %s is %i bytes (RAMInBytes)', (text, bytes) => expect(parseSizeBytes(text)).toBe(bytes));

test.each(['', 'lots', '-1m', '1x', '1.2.3g', 'm', 'Infinity'])('%j is not a size', (text) =>
  expect(parseSizeBytes(text)).toBeUndefined(),
);

test('a size past int64 parses but is at least MAX_SIZE_BYTES', () => {
  expect(parseSizeBytes('9223372036854775808')).toBeGreaterThanOrEqual(MAX_SIZE_BYTES);
  expect(parseSizeBytes('100000000p')).toBeGreaterThanOrEqual(MAX_SIZE_BYTES);
});

test.each([
  [0, '0B'],
  [999, '999B'],
  [1000, '1kB'],
  [4_260_000, '4.26MB'],
  [77_812_345, '77.8MB'],
  [1.5e9, '1.5GB'],
])('HumanSize of %i is %s', (bytes, text) => expect(humanSize(bytes)).toBe(text));

test('HumanSize takes a precision, as system df uses 4', () => expect(humanSize(77_812_345, 4)).toBe('77.81MB'));

test.each([
  [0, '0B'],
  [1023, '1023B'],
  [1024, '1KiB'],
  [1.5 * 1024 ** 3, '1.5GiB'],
  [123_456_789, '117.7MiB'],
])('BytesSize of %i is %s', (bytes, text) => expect(bytesSize(bytes)).toBe(text));

test.each([
  ['30s', 30e9],
  ['1m30s', 90e9],
  ['1h30m', 5400e9],
  ['500ms', 500e6],
  ['1.5s', 1.5e9],
  ['.5s', 0.5e9],
  ['10us', 10e3],
  ['10µs', 10e3],
  ['3ns', 3],
  ['-2m', -120e9],
  ['0', 0],
])('Go duration %s is %i ns', (text, ns) => expect(parseDurationNs(text)).toBe(ns));

test.each(['', '30', '1x', 's', '1m30', '-', '1h 30m'])('%j is not a Go duration', (text) =>
  expect(parseDurationNs(text)).toBeUndefined(),
);

test('a Go duration in ms', () => {
  expect(parseDurationMs('1m30s')).toBe(90_000);
  expect(parseDurationMs('1500us')).toBe(1.5);
  expect(parseDurationMs('nope')).toBeUndefined();
});

test.each([
  [0, '0s'],
  [90e9, '1m30s'],
  [3600e9, '1h0m0s'],
  [1.5e9, '1.5s'],
  [100e6, '100ms'],
  [10e3, '10µs'],
  [-2e9, '-2s'],
])('Duration.String of %i ns is %s', (ns, text) => expect(formatDurationNs(ns)).toBe(text));

test.each([
  [400, 'Less than a second'],
  [1000, '1 second'],
  [59_000, '59 seconds'],
  [59_999, '59 seconds'],
  [60_000, 'About a minute'],
  [119_000, 'About a minute'],
  [5 * 60_000, '5 minutes'],
  [59 * 60_000, '59 minutes'],
  [3_600_000, 'About an hour'],
  [5 * 3_600_000, '5 hours'],
  [3 * 86_400_000, '3 days'],
  [21 * 86_400_000, '3 weeks'],
  [90 * 86_400_000, '3 months'],
  [800 * 86_400_000, '2 years'],
])("docker's HumanDuration of %i ms is %s", (ms, text) => expect(humanDuration(ms)).toBe(text));

test('ages and times read as docker prints them', () => {
  expect(humanAgo(1_000, 3_601_000)).toBe('About an hour ago');
  expect(goTime(Date.UTC(2024, 4, 1, 12, 0, 0))).toBe('2024-05-01 12:00:00 +0000 UTC');
});
