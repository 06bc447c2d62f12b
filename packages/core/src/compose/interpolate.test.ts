import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { InterpolationError, escapeInterpolation, interpolateString } from './interpolate.js';

const env: Record<string, string> = { SET: 'value', EMPTY: '' };
const lookup = (n: string) => env[n];
const sub = (s: string) => interpolateString(s, lookup);

describe('interpolation as docker compose does it', () => {
  test.each([
    ['$SET', 'value'],
    ['${SET}', 'value'],
    ['pre-${SET}-post', 'pre-value-post'],
    ['${UNSET:-default}', 'default'],
    ['${EMPTY:-default}', 'default'],
    ['${EMPTY-default}', ''],
    ['${UNSET-default}', 'default'],
    ['${SET:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ['${UNSET+alt}', ''],
    ['${UNSET:-${ALSO:-${SET}}}', 'value'],
    ['$$SET', '$SET'],
    ['$${SET}', '${SET}'],
    ['$SET.x', 'value.x'],
    ['$UNSET', ''],
  ])('%s gives %j', (template, expected) => {
    expect(sub(template)).toBe(expected);
  });

  test('a required variable that is unset fails with its message', () => {
    expect(() => sub('${UNSET:?please set it}')).toThrow('required variable UNSET is missing a value: please set it');
    expect(() => sub('${EMPTY:?x}')).toThrow(InterpolationError);
    expect(sub('${EMPTY?x}')).toBe('');
  });

  test('a lone dollar is an error that says to escape it', () => {
    for (const bad of ['echo $1', 'cost $', '${', '${}', '${1A}', '${A:x}']) {
      expect(() => sub(bad), bad).toThrow(/invalid interpolation format/);
    }
  });

  test('unset variables are reported once each to onMissing', () => {
    const missing: string[] = [];
    interpolateString('$A ${B:-x} $A', lookup, { onMissing: (n) => missing.push(n) });
    expect(missing).toEqual(['A', 'A']);
  });

  test('any string either interpolates or fails with an InterpolationError', () =>
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          expect(typeof sub(s)).toBe('string');
        } catch (e) {
          expect(e).toBeInstanceOf(InterpolationError);
        }
      }),
    ));

  test('escaped text comes back unchanged', () =>
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect(sub(escapeInterpolation(s))).toBe(s);
      }),
    ));

  test('text without a dollar is left alone', () =>
    fc.assert(
      fc.property(
        fc.string().filter((s) => !s.includes('$')),
        (s) => {
          expect(sub(s)).toBe(s);
        },
      ),
    ));

  test('a default is used exactly when the variable is unset or empty', () =>
    fc.assert(
      fc.property(
        fc.option(fc.stringMatching(/^[a-z0-9 ]*$/), { nil: undefined }),
        fc.stringMatching(/^[a-z0-9 ]*$/),
        (value, fallback) => {
          const got = interpolateString(`\${V:-${fallback}}`, (n) => (n === 'V' ? value : undefined));
          expect(got).toBe(value === undefined || value === '' ? fallback : value);
        },
      ),
    ));
});
