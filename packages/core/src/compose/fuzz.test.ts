/**
 * Issue 23: the compose parsers under fuzzing. Each gives a value or its typed, located error;
 * deep or long inputs answer at once. Seeded, so a failure repeats.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { HyprError, SourceError } from '../errors.js';
import { DotenvError, parseDotenv } from './dotenv.js';
import { InterpolationError, interpolateString } from './interpolate.js';
import { PortSyntaxError, parseShortPort } from './ports.js';
import { splitShellWords } from './shell-words.js';
import { VolumeSyntaxError, parseShortVolume } from './volumes.js';

const seed = 23;
const hostile = fc
  .array(
    fc.constantFrom('$', '{', '}', ':', '-', '?', '+', 'A', '_', '1', '"', "'", '\\', '=', '#', ' ', '\n', 'export '),
    {
      maxLength: 50,
    },
  )
  .map((a) => a.join(''));
const text = fc.oneof(fc.string(), hostile);

describe('compose parsers under fuzzing', () => {
  test('dotenv text parses or fails with a DotenvError at a line', () =>
    fc.assert(
      fc.property(text, (t) => {
        try {
          parseDotenv(t, (n) => (n === 'A' ? 'a' : undefined));
        } catch (e) {
          expect(e).toBeInstanceOf(DotenvError);
          expect(e).toBeInstanceOf(SourceError);
          expect((e as DotenvError).line).toBeGreaterThanOrEqual(1);
          expect((e as DotenvError).code).toBe('COMPOSE_DOTENV_INVALID');
        }
      }),
      { seed, numRuns: 3000 },
    ));

  test('interpolation gives a string or an InterpolationError naming the template', () =>
    fc.assert(
      fc.property(text, (t) => {
        try {
          expect(typeof interpolateString(t, (n) => (n === 'A' ? '' : undefined))).toBe('string');
        } catch (e) {
          expect(e).toBeInstanceOf(InterpolationError);
          expect(t).toContain((e as InterpolationError).template);
        }
      }),
      { seed, numRuns: 3000 },
    ));

  test('deeply nested defaults are refused, long flat lines are read', () => {
    expect(() => interpolateString(`${'${A:-'.repeat(5000)}x${'}'.repeat(5000)}`, () => undefined)).toThrow(
      InterpolationError,
    );
    expect(interpolateString('${A:-x}'.repeat(20_000), () => undefined)).toBe('x'.repeat(20_000));
  });

  test('ports, volumes and commands parse or fail with their own HyprError', () =>
    fc.assert(
      fc.property(text, (t) => {
        for (const [parse, type] of [
          [() => parseShortPort(t), PortSyntaxError],
          [() => parseShortVolume(t, '/project'), VolumeSyntaxError],
          [() => splitShellWords(t), HyprError],
        ] as const) {
          try {
            parse();
          } catch (e) {
            expect(e).toBeInstanceOf(type);
            expect(e).toBeInstanceOf(HyprError);
          }
        }
      }),
      { seed, numRuns: 2000 },
    ));
});
