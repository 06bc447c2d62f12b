/**
 * Issue 23: every input to the Dockerfile frontend gives a value or a located HyprError, and the inputs
 * that used to take tens of seconds (wildcards in ${VAR#…}, .dockerignore lines of stars) answer at once.
 * Seeded, so a failure repeats.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { HyprError, SourceError } from '../errors.js';
import { createDockerignoreMatcher } from './dockerignore.js';
import { DockerfileError } from './errors.js';
import { expandWord } from './expand.js';
import { parseDockerfile } from './stages.js';

const seed = 23;

/** Words rich in what the lexers care about. */
const hostileWord = fc
  .array(fc.constantFrom('$', '{', '}', '*', '?', '#', '%', '/', '\\', '"', "'", ':', '-', '+', 'A', 'a', ' ', '\n'), {
    maxLength: 40,
  })
  .map((a) => a.join(''));

const instruction = fc.oneof(
  fc.string(),
  hostileWord.map((w) => `ENV A=${w}`),
  hostileWord.map((w) => `RUN ${w}`),
  hostileWord.map((w) => `WORKDIR \${A${w}}`),
  hostileWord.map((w) => `COPY --chmod=${w} a b`),
  hostileWord.map((w) => `RUN --mount=${w} x`),
  hostileWord.map((w) => `HEALTHCHECK ${w}`),
  fc.constantFrom(
    'FROM alpine',
    'ARG A=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab',
    'HEALTHCHECK',
    'ONBUILD RUN x',
    'CMD [1]',
  ),
);

describe('the Dockerfile frontend under fuzzing', () => {
  test('any Dockerfile parses or fails with a DockerfileError at a line', () =>
    fc.assert(
      fc.property(fc.array(instruction, { maxLength: 10 }), (lines) => {
        try {
          parseDockerfile(['FROM alpine', ...lines].join('\n'), { file: 'Dockerfile' });
        } catch (e) {
          expect(e).toBeInstanceOf(DockerfileError);
          expect((e as DockerfileError).file).toBe('Dockerfile');
          expect((e as DockerfileError).line).toBeGreaterThanOrEqual(1);
          expect((e as DockerfileError).column).toBeGreaterThanOrEqual(1);
        }
      }),
      { seed, numRuns: 1500 },
    ));

  test('any word expands or fails with a located expansion error', () => {
    const env = new Map([['A', 'a'.repeat(300)]]);
    fc.assert(
      fc.property(hostileWord, (w) => {
        try {
          expandWord(`\${A${w}`, env);
          expandWord(w, env);
        } catch (e) {
          expect(e).toBeInstanceOf(SourceError);
          expect((e as SourceError).column).toBeGreaterThanOrEqual(1);
        }
      }),
      { seed, numRuns: 3000 },
    );
  });

  test('patterns of many stars against long values answer at once', () => {
    const env = new Map([['V', `${'a'.repeat(5000)}b`]]);
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('*', '?', 'a', 'b', '\\*'), { minLength: 20, maxLength: 60 }).map((a) => a.join('')),
        fc.constantFrom('#', '##', '%', '%%', '/', '//'),
        (pattern, op) => {
          const word = op.startsWith('/') ? `\${V${op}${pattern}/x}` : `\${V${op}${pattern}}`;
          try {
            expect(typeof expandWord(word, env).value).toBe('string');
          } catch (e) {
            expect(e).toBeInstanceOf(HyprError);
          }
        },
      ),
      { seed, numRuns: 40 },
    );
  });

  test('.dockerignore lines of many stars answer at once', () =>
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('*', '**', '?', 'a', '/', '[a-c]', '\\*'), { minLength: 20, maxLength: 60 }),
        (parts) => {
          const m = createDockerignoreMatcher(`${parts.join('')}\n!${parts.reverse().join('')}\n`);
          expect(typeof m.ignores(`${'a/'.repeat(200)}${'a'.repeat(3000)}`)).toBe('boolean');
        },
      ),
      { seed, numRuns: 40 },
    ));
});

test('substitutions nested thousands deep are a located error, not a stack overflow', () => {
  for (const n of [300, 5000, 50_000]) {
    const word = `${'${A:-'.repeat(n)}x${'}'.repeat(n)}`;
    expect(() => expandWord(word, new Map())).toThrow(SourceError);
    expect(() => parseDockerfile(`FROM a\nENV X=${word}\n`, { file: 'Dockerfile' })).toThrow(
      expect.objectContaining({ code: 'DOCKERFILE_BAD_SUBSTITUTION', line: 2 }),
    );
  }
  expect(expandWord(`${'${A:-'.repeat(200)}x${'}'.repeat(200)}`, new Map()).value).toBe('x');
});
