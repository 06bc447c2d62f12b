/**
 * The compose corpus: every folder under fixtures/compose/valid is a project that must load to the model in
 * its expected.yaml and survive load → print → load; every folder under fixtures/compose/invalid must fail
 * with the problems (key path, message, line) in its expected.yaml. A folder may hold options.json with
 * loadCompose options (env, files, envFiles, profiles, services, projectName); env defaults to {}.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { parse, stringify } from 'yaml';
import { ComposeValidationError, type LoadComposeOptions, loadCompose, printCompose } from '../src/compose/index.js';

const root = join(import.meta.dirname, 'fixtures/compose');
const update = process.env.UPDATE_COMPOSE_FIXTURES === '1';
const scratch = mkdtempSync(join(tmpdir(), 'hypr-compose-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function optionsFor(dir: string): LoadComposeOptions {
  const file = join(dir, 'options.json');
  const opts = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as LoadComposeOptions) : {};
  return { ...opts, workingDir: dir, env: opts.env ?? {} };
}

/** The model with machine-specific paths replaced, so expected files are portable. */
function portable(value: unknown, dir: string): unknown {
  const json = JSON.stringify(value)
    .replaceAll(join(root, 'valid'), '<fixtures>')
    .replaceAll(dir, '<project>')
    .replaceAll(homedir(), '<home>');
  return JSON.parse(json);
}

function modelOf(p: ReturnType<typeof loadCompose>) {
  return {
    name: p.name,
    services: p.services,
    networks: p.networks,
    volumes: p.volumes,
    secrets: p.secrets,
    configs: p.configs,
    disabledServices: Object.keys(p.disabledServices),
    ...(p.extensions ? { extensions: p.extensions } : {}),
  };
}

const cases = (kind: string) => readdirSync(join(root, kind)).sort();

describe('valid compose files load to their expected model', () => {
  test.each(cases('valid'))('%s', (name) => {
    const dir = join(root, 'valid', name);
    const opts = optionsFor(dir);
    const project = loadCompose(opts);
    const got = portable(modelOf(project), dir);
    const expectedFile = join(dir, 'expected.yaml');
    if (update) writeFileSync(expectedFile, stringify(got, { lineWidth: 0 }));
    expect(got).toEqual(parse(readFileSync(expectedFile, 'utf8')));

    // load → print → load gives the same project.
    const printed = join(scratch, `${name.replaceAll(/[^a-z0-9]/gi, '_')}.yaml`);
    writeFileSync(printed, printCompose(project));
    const again = loadCompose({ ...opts, files: [printed], projectDir: project.workingDir, projectName: undefined });
    expect(modelOf(again)).toEqual({ ...modelOf(project), disabledServices: [] });
  });

  test('the corpus holds at least 50 valid projects', () => {
    expect(cases('valid').length).toBeGreaterThanOrEqual(50);
  });
});

interface ExpectedProblem {
  path: string;
  message: string;
  line?: number;
}

describe('invalid compose files fail with the key path and message', () => {
  test.each(cases('invalid'))('%s', (name) => {
    const dir = join(root, 'invalid', name);
    const expected = parse(readFileSync(join(dir, 'expected.yaml'), 'utf8')) as { problems: ExpectedProblem[] };
    let error: unknown;
    try {
      loadCompose(optionsFor(dir));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ComposeValidationError);
    const problems = (error as ComposeValidationError).problems;
    for (const want of expected.problems) {
      const match = problems.find((p) => p.path === want.path && p.message.includes(want.message));
      expect(match, `${want.path}: ${want.message} in ${JSON.stringify(problems, null, 1)}`).toBeDefined();
      if (want.line !== undefined) expect(match?.line).toBe(want.line);
    }
  });

  test('the corpus holds at least 30 invalid projects', () => {
    expect(cases('invalid').length).toBeGreaterThanOrEqual(30);
  });
});
