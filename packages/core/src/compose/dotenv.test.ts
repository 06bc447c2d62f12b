import { describe, expect, test } from 'vitest';
import { DotenvError, parseDotenv } from './dotenv.js';

describe('.env syntax', () => {
  test('reads the forms docker compose accepts', () => {
    const text = [
      '# comment',
      '',
      'PLAIN=value',
      'export EXPORTED=yes',
      'SPACED = trimmed  ',
      'INLINE=value # comment',
      'HASH=a#b',
      "SINGLE='no $EXPANSION \\n here'",
      'DOUBLE="line1\\nline2 \\"q\\""',
      'MULTI="first',
      'second"',
      'EMPTY=',
      'REF=${PLAIN}-${SHELL_ONLY:-d}',
      'YAMLISH: colon',
    ].join('\n');
    expect(parseDotenv(text)).toEqual({
      PLAIN: 'value',
      EXPORTED: 'yes',
      SPACED: 'trimmed',
      INLINE: 'value',
      HASH: 'a#b',
      SINGLE: 'no $EXPANSION \\n here',
      DOUBLE: 'line1\nline2 "q"',
      MULTI: 'first\nsecond',
      EMPTY: '',
      REF: 'value-d',
      YAMLISH: 'colon',
    });
  });

  test('a bare name takes its value from the environment, or is left out', () => {
    expect(parseDotenv('FROM_ENV\nNOT_SET\n', (n) => (n === 'FROM_ENV' ? 'x' : undefined))).toEqual({ FROM_ENV: 'x' });
  });

  test('Windows line endings and a BOM are accepted', () => {
    expect(parseDotenv('\uFEFFA=1\r\nB=2\r\n')).toEqual({ A: '1', B: '2' });
  });

  test('errors carry the line number', () => {
    expect(() => parseDotenv('A=1\nB="open\n')).toThrow(DotenvError);
    try {
      parseDotenv('A=1\n\nBAD KEY=2\n');
    } catch (e) {
      expect((e as DotenvError).line).toBe(3);
    }
  });
});
