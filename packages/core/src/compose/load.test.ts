import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { HyprError } from '../errors.js';
import { ComposeValidationError } from './errors.js';
import { findComposeFiles, loadCompose, normalizeProjectName } from './load.js';
import { printCompose } from './print.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hypr-load-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('loadCompose', () => {
  test('finds compose.yaml and its override from a subdirectory', () => {
    writeFileSync(join(dir, 'compose.yaml'), 'services:\n  a: {image: x}\n');
    writeFileSync(join(dir, 'compose.override.yml'), 'services:\n  a: {image: y}\n');
    mkdirSync(join(dir, 'sub/deeper'), { recursive: true });
    expect(findComposeFiles(join(dir, 'sub/deeper'))).toEqual([
      join(dir, 'compose.yaml'),
      join(dir, 'compose.override.yml'),
    ]);
    const p = loadCompose({ workingDir: join(dir, 'sub/deeper'), env: {}, projectName: 'p' });
    expect(p.services.a.image).toBe('y');
    expect(p.workingDir).toBe(dir);
  });

  test('no compose file is a HyprError with a hint', () => {
    expect(() => loadCompose({ workingDir: dir, env: {} })).toThrow(HyprError);
  });

  test('project names from directories are normalised as compose does', () => {
    expect(normalizeProjectName('My.Project Dir')).toBe('myprojectdir');
    expect(normalizeProjectName('__App-1')).toBe('app-1');
  });

  test('a normalised name is always a valid project name or empty', () =>
    fc.assert(
      fc.property(fc.string(), (s) => {
        const n = normalizeProjectName(s);
        expect(n === '' || /^[a-z0-9][a-z0-9_-]*$/.test(n)).toBe(true);
      }),
    ));

  test('unset variables become warnings, "version" is reported obsolete', () => {
    writeFileSync(join(dir, 'compose.yaml'), 'version: "3"\nservices:\n  a: {image: "x:${TAG}"}\n');
    const p = loadCompose({ workingDir: dir, env: {}, projectName: 'p' });
    expect(p.services.a.image).toBe('x:');
    expect(p.warnings).toEqual([
      `${join(dir, 'compose.yaml')}: the attribute "version" is obsolete and ignored`,
      'the "TAG" variable is not set; defaulting to a blank string',
    ]);
  });

  test('every problem of a file is reported at once, with file, line and hint', () => {
    writeFileSync(join(dir, 'compose.yaml'), 'services:\n  a:\n    imag: x\n    ports: ["99999:1"]\n');
    try {
      loadCompose({ workingDir: dir, env: {}, projectName: 'p' });
      expect.unreachable();
    } catch (e) {
      const err = e as ComposeValidationError;
      expect(err).toBeInstanceOf(ComposeValidationError);
      expect(err.code).toBe('COMPOSE_INVALID');
      expect(err.problems[0]).toMatchObject({ path: 'services.a.imag', line: 3, hint: 'did you mean "image"?' });
      expect(err.format()).toContain(`${join(dir, 'compose.yaml')}:3 services.a.imag: unknown key "imag"`);
    }
  });

  test('printing then loading gives the same project', () => {
    writeFileSync(
      join(dir, 'compose.yaml'),
      'services:\n  a:\n    image: x\n    command: echo "$$HOME"\n    environment: [A=$$B]\n    ports: ["80"]\n',
    );
    const p = loadCompose({ workingDir: dir, env: {}, projectName: 'p' });
    expect(p.services.a.command).toEqual(['echo', '$HOME']);
    writeFileSync(join(dir, 'printed.yaml'), printCompose(p));
    const again = loadCompose({ workingDir: dir, env: {}, files: ['printed.yaml'] });
    expect(again.services).toEqual(p.services);
    expect(again.name).toBe('p');
  });
});

/** Issue 23: hostile or broken files end in a typed error with the file and line, never a crash. */
describe('the loader never crashes', () => {
  const problemsOf = (text: string, name = 'compose.yaml') => {
    writeFileSync(join(dir, name), text);
    try {
      loadCompose({ workingDir: dir, env: {}, projectName: 'p', files: [name] });
    } catch (e) {
      expect(e).toBeInstanceOf(ComposeValidationError);
      return (e as ComposeValidationError).problems;
    }
    throw new Error('loaded');
  };

  test('-f naming a directory names the path, without Node text', () => {
    mkdirSync(join(dir, 'proj.yaml'));
    try {
      loadCompose({ workingDir: dir, env: {}, files: ['proj.yaml'] });
      expect.unreachable();
    } catch (e) {
      const err = e as ComposeValidationError;
      expect(err.code).toBe('COMPOSE_FILE_UNREADABLE');
      expect(err.format()).toContain(join(dir, 'proj.yaml'));
      expect(err.format()).toContain('is a directory');
      expect(err.format()).not.toContain('EISDIR');
    }
  });

  test.each([
    ['an alias cycle', 'services:\n  a: {image: x}\nx-a: &a [*a]\n', 3, 'refers to a value that contains it'],
    ['an unresolved alias', 'services:\n  a:\n    image: *nope\n', 3, "unknown anchor 'nope' referenced"],
    ['a merge key of a scalar', 'x-a: &a 1\nservices:\n  a:\n    <<: *a\n    image: x\n', 4, 'map merge requires map'],
    [
      'a non-string key',
      'services:\n  a:\n    image: x\n    environment:\n      1: x\n',
      5,
      'non-string key in services.a.environment: 1',
    ],
    ['include of an empty path list', 'include: [{path: []}]\nservices:\n  a: {image: x}\n', 1, 'names no file'],
    ['include of an empty path', 'include: [""]\nservices:\n  a: {image: x}\n', 1, 'is a directory, not a file'],
  ])('%s', (_name, text, line, message) => {
    const problems = problemsOf(text);
    const p = problems.find((x) => x.message.includes(message));
    expect(p, JSON.stringify(problems)).toBeDefined();
    expect(p?.line).toBe(line);
    expect(p?.file).toBe(join(dir, 'compose.yaml'));
  });

  test.each([150, 3000, 20_000])('values nested %i levels deep', (depth) => {
    const problems = problemsOf(`services:\n  a:\n    image: x\nx-deep: ${'['.repeat(depth)}${']'.repeat(depth)}\n`);
    expect(problems[0].line).toBeGreaterThanOrEqual(1);
    expect(problems[0].file).toBe(join(dir, 'compose.yaml'));
  });

  test('an include cycle is reported, not followed', () => {
    writeFileSync(join(dir, 'b.yaml'), 'include: [compose.yaml]\nservices:\n  b: {image: x}\n');
    const problems = problemsOf('include: [b.yaml]\nservices:\n  a: {image: x}\n');
    expect(problems.some((p) => p.message.startsWith('include cycle detected'))).toBe(true);
  });

  test('any text either loads or fails with a located ComposeValidationError', () =>
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.stringMatching(/^[a-z:\[\]{}&*!<\-\n $"']{0,60}$/),
          fc.constantFrom('services:\n  a: {image: x}\n'),
        ),
        (text) => {
          writeFileSync(join(dir, 'fuzz.yaml'), text);
          try {
            loadCompose({ workingDir: dir, env: {}, projectName: 'p', files: ['fuzz.yaml'] });
          } catch (e) {
            expect(e).toBeInstanceOf(ComposeValidationError);
            for (const p of (e as ComposeValidationError).problems) expect(p.file).toBeDefined();
          }
        },
      ),
      { numRuns: 300 },
    ));
});
