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
