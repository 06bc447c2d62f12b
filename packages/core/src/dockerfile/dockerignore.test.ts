import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { cleanPath, createDockerignoreMatcher, parseDockerignore } from './dockerignore.js';

describe('.dockerignore as docker applies it', () => {
  const m = createDockerignoreMatcher(
    [
      '# comment',
      '',
      'node_modules',
      '*.log',
      '!important.log',
      '/build/',
      'docs/**/*.md',
      '!docs/keep/README.md',
      '**/.git',
      'tmp?',
      '  spaced  ',
      './dot/../cleaned',
      '[ab].txt',
    ].join('\n'),
  );

  test.each([
    ['node_modules', true],
    ['node_modules/pkg/index.js', true],
    ['src/node_modules', false],
    ['error.log', true],
    ['important.log', false],
    ['logs/error.log', false],
    ['build/out.js', true],
    ['docs/a/b/c.md', true],
    ['docs/c.md', true],
    ['docs/keep/README.md', false],
    ['docs/keep/other.md', true],
    ['.git/config', true],
    ['a/b/.git/HEAD', true],
    ['tmp1', true],
    ['tmp12', false],
    ['spaced', true],
    ['cleaned', true],
    ['a.txt', true],
    ['c.txt', false],
    ['src/index.ts', false],
  ])('%s ignored: %s', (path, ignored) => {
    expect(m.ignores(path)).toBe(ignored);
  });

  test('patterns are cleaned and keep their lines', () => {
    const p = parseDockerignore('\ufeff/abs/path/\n!  re\n# c\n');
    expect(p.map((x) => [x.pattern, x.exclusion, x.line])).toEqual([
      ['abs/path', false, 1],
      ['re', true, 2],
    ]);
  });

  test('the last matching pattern wins', () => {
    const mm = createDockerignoreMatcher('*.md\n!README.md\nREADME.md\n');
    expect(mm.ignores('README.md')).toBe(true);
  });

  test('a directory exclusion can be re-included', () => {
    const mm = createDockerignoreMatcher('dist\n!dist/keep.js\n');
    expect(mm.ignores('dist/keep.js')).toBe(false);
    expect(mm.ignores('dist/other.js')).toBe(true);
    expect(mm.mayReinclude('dist')).toBe(true);
  });

  test('cleanPath is Go path.Clean', () => {
    expect(cleanPath('')).toBe('.');
    expect(cleanPath('a//b/./c/..')).toBe('a/b');
    expect(cleanPath('/../a')).toBe('/a');
    expect(cleanPath('../a')).toBe('../a');
  });

  test('any pattern text gives a matcher that answers without throwing', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (text, path) => {
        expect(typeof createDockerignoreMatcher(text).ignores(path)).toBe('boolean');
      }),
    );
  });
});

describe('.dockerignore patterns match in linear time', () => {
  test('a 60-byte line of stars answers at once', () => {
    const m = createDockerignoreMatcher(`${'*a'.repeat(30)}b\n`);
    expect(m.ignores(`${'a'.repeat(5000)}c`)).toBe(false);
    expect(m.ignores(`${'a'.repeat(60)}b`)).toBe(true);
  });

  test('prefix, suffix and ** patterns as moby/patternmatcher reads them', () => {
    const m = createDockerignoreMatcher('foo**\n**/bar\nbaz/**/*.go\n[^a-c]x\n');
    expect(m.ignores('foobar')).toBe(true);
    expect(m.ignores('a/b/bar')).toBe(true);
    expect(m.ignores('bar')).toBe(true);
    expect(m.ignores('xbar')).toBe(false);
    expect(m.ignores('baz/a.go')).toBe(true);
    expect(m.ignores('baz/x/y/a.go')).toBe(true);
    expect(m.ignores('dx')).toBe(true);
    expect(m.ignores('ax')).toBe(false);
  });
});
