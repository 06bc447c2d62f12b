import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ExpansionError } from './errors.js';
import { expandWord } from './expand.js';

const env = new Map<string, string | undefined>([
  ['NAME', 'world'],
  ['EMPTY', ''],
  ['PATHV', '/usr/local/bin:/usr/bin:/bin'],
  ['FILE', 'archive.tar.gz'],
]);
const x = (word: string, token = '\\') => expandWord(word, env, { escape: token }).value;

describe('word expansion as BuildKit does it', () => {
  test.each([
    ['$NAME', 'world'],
    ['${NAME}', 'world'],
    ['hello-$NAME!', 'hello-world!'],
    ['$UNSET', ''],
    ['${UNSET:-def}', 'def'],
    ['${EMPTY:-def}', 'def'],
    ['${EMPTY-def}', ''],
    ['${UNSET-def}', 'def'],
    ['${NAME:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ['${UNSET+alt}', ''],
    ['${FILE#*.}', 'tar.gz'],
    ['${FILE##*.}', 'gz'],
    ['${FILE%.*}', 'archive.tar'],
    ['${FILE%%.*}', 'archive'],
    ['${PATHV/bin/sbin}', '/usr/local/sbin:/usr/bin:/bin'],
    ['${PATHV//bin/X}', '/usr/local/X:/usr/X:/X'],
    ["'$NAME'", '$NAME'],
    ['"$NAME"', 'world'],
    ['"a \\"q\\" b"', 'a "q" b'],
    ['\\$NAME', '$NAME'],
    ['a\\ b', 'a b'],
    ['"\\n"', '\\n'],
    ['$', '$'],
    ['${UNSET:-${NAME}}', 'world'],
    ['$1', ''],
  ])('%s → %s', (word, expected) => {
    expect(x(word)).toBe(expected);
  });

  test('the escape directive switches the escape token to a backtick', () => {
    expect(x('C:\\path`$NAME', '`')).toBe('C:\\path$NAME');
  });

  test('${X:?message} fails with the message when X is unset or empty', () => {
    expect(() => x('${UNSET:?need it}')).toThrow('UNSET: need it');
    expect(() => x('${EMPTY:?}')).toThrow('EMPTY: is not allowed to be empty');
    expect(() => x('${UNSET?}')).toThrow('UNSET: is not allowed to be unset');
    expect(x('${EMPTY?}')).toBe('');
  });

  test('malformed substitutions and quotes are errors', () => {
    expect(() => x('${NAME')).toThrow("missing '}'");
    expect(() => x('${}')).toThrow('bad substitution');
    expect(() => x('${NAME:=x}')).toThrow('unsupported modifier (:=)');
    expect(() => x("'open")).toThrow('single-quote');
    expect(() => x('"open')).toThrow('double-quote');
  });

  test('ProcessWords splits unquoted whitespace, also inside expanded values', () => {
    const r = expandWord('a "b c" $V', new Map([['V', 'd e']]));
    expect(r.words).toEqual(['a', 'b c', 'd', 'e']);
  });

  test('reports which variables were used and which were missing', () => {
    const r = expandWord('$NAME ${NOPE:-x}', env);
    expect([...r.matched]).toEqual(['NAME']);
    expect([...r.unmatched]).toEqual(['NOPE']);
  });

  test('any word expands to a string or fails with an ExpansionError', () => {
    fc.assert(
      fc.property(fc.string(), (word) => {
        try {
          expect(typeof x(word)).toBe('string');
        } catch (e) {
          expect(e).toBeInstanceOf(ExpansionError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('words without special characters are left unchanged', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-zA-Z0-9 ._/:-]*$/), (word) => {
        expect(x(word)).toBe(word);
      }),
    );
  });
});
