import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { formatDurationNs, normalizeDuration, parseBytes, parseDurationNs } from './units.js';

describe('durations and sizes', () => {
  test.each([
    ['1m30s', '1m30s'],
    ['90s', '1m30s'],
    ['1.5s', '1.5s'],
    ['500ms', '500ms'],
    ['2h', '2h0m0s'],
    ['0', '0s'],
    ['1h1m1s', '1h1m1s'],
  ])('%s is %s', (input, canonical) => {
    expect(normalizeDuration(input)).toBe(canonical);
  });

  test.each(['10', '10 seconds', '1d', '', 's'])('%j is not a duration', (input) => {
    expect(parseDurationNs(input)).toBeUndefined();
  });

  test('formatting then parsing gives the same nanoseconds', () =>
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 24 * 3600 }), fc.integer({ min: 0, max: 999 }), (s, msPart) => {
        const ns = s * 1e9 + msPart * 1e6;
        expect(parseDurationNs(formatDurationNs(ns))).toBe(ns);
      }),
    ));

  test.each([
    ['512m', 512 * 1024 ** 2],
    ['1g', 1024 ** 3],
    ['1GiB', 1024 ** 3],
    ['64mb', 64 * 1024 ** 2],
    ['100k', 102400],
    ['2048', 2048],
    [1000, 1000],
  ] as const)('%s is %d bytes', (input, bytes) => {
    expect(parseBytes(input)).toBe(bytes);
  });

  test('"lots" is not a size', () => {
    expect(parseBytes('lots')).toBeUndefined();
  });
});
