import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { describe, expect, test } from 'vitest';
import {
  type Dockerfile,
  DockerfileError,
  type ParseDockerfileOptions,
  createBuildGraph,
  parseDockerfile,
  parseDockerfileAst,
  printDockerfile,
} from '../src/index.js';

/**
 * The corpus: test/fixtures/dockerfile/<case>/{Dockerfile, options.json?, expected.json}.
 * expected.json is what a user of parseDockerfile sees: stages with their bases and typed steps,
 * warnings by rule and line, or the error's code, line and message. After a deliberate change,
 * regenerate with `UPDATE_CORPUS=1 pnpm exec vitest run packages/core/test/dockerfile-corpus.test.ts`
 * and review the diff.
 */

const root = join(import.meta.dirname, 'fixtures/dockerfile');
const cases = readdirSync(root).sort();

function project(df: Dockerfile, target: string | undefined): unknown {
  return {
    directives: df.directives,
    globalArgs: df.globalArgs,
    stages: df.stages.map((s) => ({
      index: s.index,
      name: s.name,
      base: s.base,
      platform: s.platform,
      steps: s.steps.map(({ scope, original, column, ...step }) => step),
    })),
    warnings: df.warnings.map((w) => `${w.line} ${w.rule}: ${w.message}`),
    unusedBuildArgs: df.unusedBuildArgs,
    buildOrder: createBuildGraph(df, { target }).levels,
  };
}

function run(name: string): unknown {
  const source = readFileSync(join(root, name, 'Dockerfile'), 'utf8');
  const optionsFile = join(root, name, 'options.json');
  const { target, ...options } = (
    existsSync(optionsFile) ? JSON.parse(readFileSync(optionsFile, 'utf8')) : {}
  ) as ParseDockerfileOptions & {
    target?: string;
  };
  try {
    const df = parseDockerfile(source, { platform: 'linux/amd64', ...options, file: 'Dockerfile' });
    return JSON.parse(JSON.stringify(project(df, target)));
  } catch (e) {
    if (!(e instanceof DockerfileError)) throw e;
    return { error: { code: e.code, line: e.line, message: e.message } };
  }
}

describe('the Dockerfile corpus', () => {
  test('has at least 60 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
  });

  test.each(cases)('%s parses as expected', (name) => {
    const actual = run(name);
    const expectedFile = join(root, name, 'expected.json');
    if (process.env.UPDATE_CORPUS === '1') writeFileSync(expectedFile, `${JSON.stringify(actual, null, 2)}\n`);
    expect(actual).toEqual(JSON.parse(readFileSync(expectedFile, 'utf8')));
  });

  test.each(cases.filter((c) => !c.startsWith('error-')))(
    '%s: keywords and lines agree with dockerfile-ast',
    (name) => {
      const source = readFileSync(join(root, name, 'Dockerfile'), 'utf8');
      const ours = parseDockerfileAst(source).nodes.map((n) => `${n.line} ${n.keyword}`);
      const theirs = DockerfileParser.parse(source)
        .getInstructions()
        .map((i) => `${i.getRange().start.line + 1} ${i.getKeyword()}`);
      // dockerfile-ast does not read heredoc bodies: its extra "instructions" are body lines.
      const hasHeredoc = /<<-?["']?[A-Za-z]/.test(source);
      if (hasHeredoc) expect(theirs).toEqual(expect.arrayContaining(ours));
      else expect(ours).toEqual(theirs);
    },
  );

  test.each(cases.filter((c) => !c.startsWith('error-')))(
    '%s: printing and re-parsing gives the same instructions',
    (name) => {
      const source = readFileSync(join(root, name, 'Dockerfile'), 'utf8');
      const strip = (src: string) =>
        parseDockerfileAst(src).nodes.map(({ line, endLine, column, original, heredocs, trigger, ...n }) => ({
          ...n,
          heredocs: heredocs.map(({ line: _l, ...h }) => h),
        }));
      const ast = parseDockerfileAst(source);
      expect(strip(printDockerfile(ast))).toEqual(strip(source));
    },
  );
});
