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

  // compose-go template_test.go TestUnescaped: a `$` not followed by a name, `{` or `$` is a literal.
  test('a dollar not followed by a name, a brace or a dollar stays', () => {
    for (const text of ['a $ string', '^REGEX$', '$}', '$', 'echo $1', 'cost $']) expect(sub(text)).toBe(text);
  });

  // compose-go template_test.go TestInvalid.
  test('a malformed ${…} is an error that says to escape the dollar', () => {
    for (const bad of ['${', '${}', '${ }', '${ foo}', '${foo }', '${foo!}', '${1A}', '${A:x}']) {
      expect(() => sub(bad), bad).toThrow(/invalid interpolation format/);
      expect(() => sub(bad), bad).toThrow(
        expect.objectContaining({ hint: 'You may need to escape any $ with another $.' }),
      );
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

/** compose-go template/template_test.go, case for case (defaults: FOO=first, BAR="", JSON={"json":2}). */
describe('compose-go template tests', () => {
  const defaults: Record<string, string> = { FOO: 'first', BAR: '', JSON: '{"json":2}' };
  const go = (s: string, onMissing?: (n: string) => void) =>
    interpolateString(s, (n) => defaults[n], onMissing ? { onMissing } : {});

  test.each([
    // TestEscaped, TestSubstituteNoMatch, TestNonBraced
    ['$${foo}', '${foo}'],
    ['foo', 'foo'],
    ['$FOO-bar', 'first-bar'],
    // TestNoValueNoDefault, TestValueNoDefault, TestNoValueWithDefault
    ['This ${missing} var', 'This  var'],
    ['This ${BAR} var', 'This  var'],
    ['This $FOO var', 'This first var'],
    ['This ${FOO} var', 'This first var'],
    ['ok ${missing:-def}', 'ok def'],
    ['ok ${missing-def}', 'ok def'],
    // soft/hard defaults and presence values
    ['ok ${BAR:-def}', 'ok def'],
    ['ok ${FOO:-def}', 'ok first'],
    ['ok ${BAR-def}', 'ok '],
    ['ok ${UNSET_VAR:+presence_value}', 'ok '],
    ['ok ${UNSET_VAR+presence_value}', 'ok '],
    ['ok ${FOO:+presence_value}', 'ok presence_value'],
    ['ok ${FOO+presence_value}', 'ok presence_value'],
    ['ok ${BAR+presence_value}', 'ok presence_value'],
    ['ok ${BAR:+presence_value}', 'ok '],
    ['ok ${BAR:-/non:-alphanumeric}', 'ok /non:-alphanumeric'],
    // TestInterpolationExternalInterference
    ['-ok ${BAR:-defaultValue}', '-ok defaultValue'],
    ['+ok ${UNSET:-${BAR-defaultValue}}', '+ok '],
    ['-ok ${FOO:-defaultValue}', '-ok first'],
    [':-ok ${UNSET-defaultValue}', ':-ok defaultValue'],
    [':-ok ${BAR-defaultValue}', ':-ok '],
    [':?ok ${BAR-defaultValue}', ':?ok '],
    [':?ok ${BAR:-defaultValue}', ':?ok defaultValue'],
    [':+ok ${BAR:-defaultValue}', ':+ok defaultValue'],
    ['+ok ${BAR-defaultValue}', '+ok '],
    ['?ok ${BAR:-defaultValue}', '?ok defaultValue'],
    // TestDefaultsWithNestedExpansion
    ['ok ${UNSET_VAR-$FOO}', 'ok first'],
    ['ok ${UNSET_VAR-${FOO}}', 'ok first'],
    ['ok ${UNSET_VAR-${FOO} ${FOO}}', 'ok first first'],
    ['ok ${BAR:-$FOO}', 'ok first'],
    ['ok ${BAR:-${FOO}}', 'ok first'],
    ['ok ${BAR:-${FOO} ${FOO}}', 'ok first first'],
    ['ok ${BAR+$FOO}', 'ok first'],
    ['ok ${BAR+$FOO ${FOO:+second}}', 'ok first second'],
    // TestDefaultsForMandatoryVariables, TestPrecedence
    ['ok ${FOO:?err}', 'ok first'],
    ['ok ${FOO?err}', 'ok first'],
    ['ok ${BAR?err}', 'ok '],
    ['${UNSET_VAR-myerror?msg}', 'myerror?msg'],
    ['${FOO?bar-baz}', 'first'],
    ['${BAR:-default_value_for_empty_var}', 'default_value_for_empty_var'],
    // TestSubstituteWithReplacementFunc (default function part)
    ['ok ${SUBDOMAIN:-redis}.${FOO:?}', 'ok redis.first'],
    // TestNoValueWithCurlyBracesDefault, TestValueWithCurlyBracesDefault
    ['ok ${missing:-{"json":1}}', 'ok {"json":1}'],
    ['ok ${missing-{"json":1}}', 'ok {"json":1}'],
    ['ok ${JSON:-{"json":1}}', 'ok {"json":2}'],
    ['ok ${JSON-{"json":1}}', 'ok {"json":2}'],
  ])('%s gives %j', (template, expected) => {
    expect(go(template)).toBe(expected);
  });

  test.each([
    // TestMandatoryVariableErrors, TestMandatoryVariableErrorsWithNestedExpansion, TestPrecedence
    [
      'not ok ${UNSET_VAR:?Mandatory Variable Unset}',
      'required variable UNSET_VAR is missing a value: Mandatory Variable Unset',
    ],
    ['not ok ${BAR:?Mandatory Variable Empty}', 'required variable BAR is missing a value: Mandatory Variable Empty'],
    ['not ok ${UNSET_VAR:?}', 'required variable UNSET_VAR is missing a value'],
    [
      'not ok ${UNSET_VAR?Mandatory Variable Unset}',
      'required variable UNSET_VAR is missing a value: Mandatory Variable Unset',
    ],
    ['not ok ${UNSET_VAR?}', 'required variable UNSET_VAR is missing a value'],
    [
      'not ok ${UNSET_VAR:?Mandatory Variable ${FOO}}',
      'required variable UNSET_VAR is missing a value: Mandatory Variable first',
    ],
    [
      'not ok ${UNSET_VAR?Mandatory Variable ${FOO}}',
      'required variable UNSET_VAR is missing a value: Mandatory Variable first',
    ],
    ['${UNSET_VAR?bar-baz}', 'required variable UNSET_VAR is missing a value: bar-baz'],
  ])('%s fails with %j', (template, message) => {
    expect(() => go(template)).toThrow(message);
    expect(() => go(template)).toThrow(InterpolationError);
  });

  // TestLazyDefaultDoesNotWarn, TestLazyDefaultWarnsWhenUsed, TestLazyRequiredMessageDoesNotWarn
  test('only the references that are used warn', () => {
    const missing: string[] = [];
    expect(go('${A:+${A},}B', (n) => missing.push(n))).toBe('B');
    expect(missing).toEqual([]);
    expect(go('${A:-${B}}', (n) => missing.push(n))).toBe('');
    expect(missing).toEqual(['B']);
    expect(interpolateString('${A?${B}}', (n) => (n === 'A' ? 'value' : undefined))).toBe('value');
  });

  test('a long line of references with defaults is read without recursion', () => {
    const line = '${FOO:-x}}'.repeat(5000);
    expect(go(line)).toBe('first}'.repeat(5000));
  });

  test('an error after a reference with an operator names the rest of the line, as compose-go does', () => {
    expect(() => go('${A:-x}${}}')).toThrow('invalid interpolation format: ${}}');
    expect(() => go('${A:-x}}${')).toThrow('invalid interpolation format: ${A:-x}}${');
  });
});
