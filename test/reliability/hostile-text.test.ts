/**
 * Issue 23, hostile text: the inputs that crashed or froze a parser, each answered with a typed error
 * naming the file and line (or a value). The CLI prints what the loader throws: one `hypr compose
 * config` run at the end shows it.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ComposeValidationError, loadCompose } from '../../packages/core/src/compose/index.js';
import { createDockerignoreMatcher, expandWord, parseDockerfile } from '../../packages/core/src/dockerfile/index.js';
import { HyprError } from '../../packages/core/src/errors.js';
import { DEFAULT_UNPACK_LIMITS, resolveUnpackLimits } from '../../packages/core/src/image/unpack-limits.js';
import { parseDaemonConfig, unpackLimitsOf } from '../../packages/daemon/src/config/config.js';
import { HYPR } from '../e2e/helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hypr-hostile-text-'));
  await mkdir(join(dir, 'sub'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Loads `text` as compose.yaml and returns its problems (file name, line, message). */
async function composeProblems(
  name: string,
  text: string,
): Promise<{ file: string; line?: number; message: string }[]> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, text);
  try {
    loadCompose({ files: [file], workingDir: dir, env: {} });
  } catch (e) {
    expect(e).toBeInstanceOf(ComposeValidationError);
    return (e as ComposeValidationError).problems.map((p) => ({
      file: (p.file ?? '').slice(dir.length + 1),
      line: p.line,
      message: p.message,
    }));
  }
  throw new Error(`${name}.yaml loaded without an error`);
}

const service = 'services:\n  s:\n    image: x\n';

describe('the compose loader refuses hostile YAML with the file and line', () => {
  test.each([
    ['an alias cycle in a list', `a: &a [*a]\n${service}`, 1, /alias \*a refers to a value that contains it/],
    ['an alias cycle in a mapping', `x-a: &a {b: *a}\n${service}`, 1, /alias \*a refers to a value that contains it/],
    ['include of a path list that is empty', `include: [{path: []}]\n${service}`, 1, /names no file/],
    ['include of an empty name (the project directory)', `include: [""]\n${service}`, 1, /is a directory, not a file/],
    ['include of a directory', `include: ["sub"]\n${service}`, 1, /is a directory, not a file/],
    ['an unresolved alias', 'services:\n  s:\n    image: *nope\n', 3, /unknown anchor 'nope'/],
    ['a merge key of a scalar', 'x-a: &a 3\nservices:\n  s:\n    <<: *a\n    image: x\n', 4, /map merge requires map/],
    [
      'a billion laughs',
      `a: &a [x,x,x,x,x,x,x,x,x]\n${['b', 'c', 'd', 'e', 'f', 'g', 'h'].map((k, i) => `${k}: &${k} [${`*${'abcdefg'[i]},`.repeat(9)}]`).join('\n')}\n${service}`,
      1,
      /alias count/,
    ],
  ])('%s', async (_name, text, line, message) => {
    const problems = await composeProblems(_name.replace(/\W+/g, '-'), text);
    expect(problems[0]).toMatchObject({ line, message: expect.stringMatching(message) });
    expect(problems[0].file).toMatch(/\.yaml$/);
  });

  test.each([
    ['flow lists', (n: number) => `x-d: ${'['.repeat(n)}${']'.repeat(n)}\n${service}`],
    ['flow mappings', (n: number) => `x-d: ${'{a: '.repeat(n)}1${'}'.repeat(n)}\n${service}`],
    [
      'block lists',
      (n: number) => `x-d:\n${Array.from({ length: n }, (_, i) => `${' '.repeat(i + 1)}- `).join('\n')}x\n${service}`,
    ],
    ['compact lists', (n: number) => `x-d:\n  ${'- '.repeat(n)}x\n${service}`],
    [
      'block mappings',
      (n: number) => `x-d:\n${Array.from({ length: n }, (_, i) => `${' '.repeat(i + 1)}k:`).join('\n')} x\n${service}`,
    ],
  ])('values nested thousands deep in %s are a located error, not a stack overflow', async (kind, make) => {
    for (const n of [150, 3000]) {
      const problems = await composeProblems(`deep-${kind.replace(' ', '-')}-${n}`, make(n));
      expect(problems[0].message).toMatch(/nested more than 100 levels deep/);
      expect(problems[0].line).toBeGreaterThanOrEqual(1);
    }
    // 60 levels is fine: the limit is not in the way of real files.
    const ok = join(dir, `ok-${kind.replace(' ', '-')}.yaml`);
    await writeFile(ok, make(60));
    expect(loadCompose({ files: [ok], workingDir: dir, env: {} }).services.s.image).toBe('x');
  });

  test('aliases that repeat deep values nest too deep through the alias, with its line', async () => {
    const d = 60;
    let text = `x-a0: &a0 ${'['.repeat(d)}1${']'.repeat(d)}\n`;
    for (let k = 1; k < 30; k++) text += `x-a${k}: &a${k} ${'['.repeat(d)}*a${k - 1}${']'.repeat(d)}\n`;
    const problems = await composeProblems('alias-deep', `${text}${service}`);
    expect(problems[0]).toMatchObject({
      line: 2,
      message: expect.stringMatching(/nested more than 100 .*through \*a0/),
    });
  });

  test('-f of a directory names it', () => {
    expect(() => loadCompose({ files: [join(dir, 'sub')], workingDir: dir, env: {} })).toThrow(
      expect.objectContaining({ code: 'COMPOSE_FILE_UNREADABLE', message: expect.stringContaining('is a directory') }),
    );
  });

  test('hypr compose config prints the located error, never a stack overflow', async () => {
    const file = join(dir, 'compose.yaml');
    await writeFile(file, `x-d: ${'['.repeat(5000)}${']'.repeat(5000)}\n${service}`);
    const r = spawnSync(process.execPath, [HYPR, 'compose', '-f', file, 'config'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: process.env.HOME, HYPR_HOST: `unix://${join(dir, 'none.sock')}` },
      timeout: 120_000,
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${file}:1`);
    expect(r.stderr).toContain('nested more than 100 levels deep');
    expect(r.stderr).not.toMatch(/call stack|TypeError|RangeError/);
  });
});

describe('shell patterns answer in linear time', () => {
  test("the acceptance script's 44-a pattern", () => {
    const a = 'a'.repeat(44);
    const df = `FROM scratch\nENV A=${a}\nENV B=\${A#*a*a*a*a*a*a*a*a*a*a*ab}\n`;
    try {
      parseDockerfile(df);
    } catch (e) {
      expect(e).toBeInstanceOf(HyprError);
    }
    expect(expandWord('${A#*a*a*a*a*a*a*a*a*a*a*ab}', new Map([['A', a]])).value).toBe(a);
  });

  test('60-byte lines of stars in every expansion operator and in .dockerignore', () => {
    const value = `${'a/'.repeat(500)}${'a'.repeat(2000)}`;
    const env = new Map([['A', value]]);
    for (const p of ['*'.repeat(60), '*a'.repeat(30), `${'a*'.repeat(29)}b`, '?*'.repeat(30), '**'.repeat(30)]) {
      for (const op of ['#', '##', '%', '%%']) expect(typeof expandWord(`\${A${op}${p}}`, env).value).toBe('string');
      for (const op of ['/', '//']) expect(typeof expandWord(`\${A${op}${p}/x}`, env).value).toBe('string');
    }
    // Every parent of a 2,000-segment path is tried against the pattern: in one pass, not one each.
    const path = `${'a/'.repeat(2000)}c`;
    for (const line of ['*'.repeat(60), `${'**'.repeat(29)}/b`, '*/'.repeat(30), `${'a*'.repeat(29)}b`]) {
      const m = createDockerignoreMatcher(`${line}\n!${line}x\n`);
      expect(typeof m.ignores(path)).toBe('boolean');
    }
    expect(createDockerignoreMatcher('a/a/a\n').ignores(path)).toBe(true);
    expect(createDockerignoreMatcher('**/c\n').ignores(path)).toBe(true);
    expect(createDockerignoreMatcher('*/*/b\n').ignores(path)).toBe(false);
  });
});

describe('daemon.json sets the unpack limits', () => {
  test('ratio and total are read, sizes as docker writes them', () => {
    const c = parseDaemonConfig({ 'unpack-max-ratio': 500, 'unpack-max-bytes': '100g' });
    expect(c['unpack-max-ratio']).toBe(500);
    expect(c['unpack-max-bytes']).toBe(100 * 1024 ** 3);
    expect(parseDaemonConfig({})['unpack-max-bytes']).toBeUndefined();
    expect(unpackLimitsOf(c)).toEqual({ maxExpansionRatio: 500, maxImageBytes: 100 * 1024 ** 3 });
    expect(resolveUnpackLimits(unpackLimitsOf(parseDaemonConfig({})), {})).toEqual(DEFAULT_UNPACK_LIMITS);
  });

  test('a bad value names the key', () => {
    expect(() => parseDaemonConfig({ 'unpack-max-bytes': 'lots' }, '/etc/hypr/daemon.json')).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', path: 'unpack-max-bytes', file: '/etc/hypr/daemon.json' }),
    );
    expect(() => parseDaemonConfig({ 'unpack-max-ratio': -1 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', path: 'unpack-max-ratio' }),
    );
  });
});
