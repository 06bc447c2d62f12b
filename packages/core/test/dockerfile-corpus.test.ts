import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { describe, expect, test } from 'vitest';
import { ExpansionError as DockerfileExpansionError } from '../src/dockerfile/errors.js';
import {
  type Dockerfile,
  DockerfileError,
  type DockerfileNode,
  type ParseDockerfileOptions,
  createBuildGraph,
  expandWord,
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

  // dockerfile-ast continues a line ending in an escaped backslash; BuildKit (and HYPR) do not.
  const astDisagrees = new Set(['buildkit-trailing-backslash']);
  test.each(cases.filter((c) => !c.startsWith('error-') && !astDisagrees.has(c)))(
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

/** Go's strconv.Quote, as BuildKit's Node.Dump prints values. */
function goQuote(s: string): string {
  const named: Record<string, string> = {
    '\x07': '\\a',
    '\b': '\\b',
    '\f': '\\f',
    '\n': '\\n',
    '\r': '\\r',
    '\t': '\\t',
    '\v': '\\v',
  };
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (named[ch]) out += named[ch];
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c === 0xfffd || c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** One node as BuildKit's parser.Node.Dump prints it: `(keyword ["--flags"] "arg" …)`. */
function dumpNode(n: DockerfileNode): string {
  let str = n.rawKeyword.toLowerCase();
  if (n.flags.length > 0) {
    const flags = n.flags.map((f) => goQuote(f.value === undefined ? `--${f.name}` : `--${f.name}=${f.value}`));
    str += ` [${flags.join(' ')}]`;
  }
  const next: string[] = [];
  if (n.keyword === 'ONBUILD' && n.trigger) next.push(`(${dumpNode(n.trigger)})`);
  else if (n.pairs) for (const p of n.pairs) next.push(goQuote(p.key), goQuote(p.value), goQuote(n.legacy ? '' : '='));
  else {
    if (n.keyword === 'HEALTHCHECK' && n.healthcheckType !== undefined) {
      next.push(goQuote(n.healthcheckTypeRaw ?? n.healthcheckType));
    }
    next.push(...n.args.map(goQuote));
  }
  return next.length > 0 ? `${str} ${next.join(' ')}` : str;
}

/**
 * BuildKit's own parser test files (Apache-2.0); `error-buildkit-negative-<case>` are its
 * testfiles-negative (TestParseErrorCases), which must fail. buildkit-health's expected.json is an
 * error: its bare HEALTHCHECK parses, and fails where BuildKit fails it, when the build reads it.
 * These are frontend/dockerfile/parser/testfiles/<case>/{Dockerfile,result},
 * copied as fixtures/dockerfile/buildkit-<case>: our AST printed as BuildKit dumps its own must equal
 * its `result`, line for line (parser_test.go TestParseCases).
 */
describe('BuildKit parser test files', () => {
  const buildkit = cases.filter((c) => c.startsWith('buildkit-') && existsSync(join(root, c, 'result')));
  test('are in the corpus', () => {
    expect(buildkit.length).toBeGreaterThanOrEqual(30);
  });
  test.each(buildkit)('%s dumps as BuildKit dumps it', (name) => {
    const source = readFileSync(join(root, name, 'Dockerfile'), 'utf8');
    const want = readFileSync(join(root, name, 'result'), 'utf8')
      .trimEnd()
      .split('\n');
    expect(parseDockerfileAst(source).nodes.map((n) => `(${dumpNode(n)})`)).toEqual(want);
  });
});

/**
 * BuildKit's shell lexer test data (frontend/dockerfile/shell/envVarTest and wordsTest, copied to
 * fixtures/dockerfile-shell), read as lex_test.go TestShellParser4EnvVars and TestShellParser4Words do.
 */
describe('BuildKit shell lexer test data', () => {
  const dir = join(import.meta.dirname, 'fixtures/dockerfile-shell');
  const lines = (name: string) =>
    readFileSync(join(dir, name), 'utf8')
      .split('\n')
      .map((line, i) => ({ line, n: i + 1 }));

  const envVarCases = lines('envVarTest')
    .filter(({ line }) => !line.startsWith('#') && line.trim() !== '')
    .map(({ line, n }) => {
      const [platform, source, expected] = line
        .trim()
        .split('|')
        .map((w) => w.trim());
      return { n, platform, source, expected };
    })
    .filter((c) => c.platform !== 'W');
  test.each(envVarCases)('envVarTest line $n: $source', ({ source, expected }) => {
    const env = new Map([
      ['PWD', '/home'],
      ['SHELL', 'bash'],
      ['KOREAN', '한국어'],
      ['NULL', ''],
    ]);
    if (expected === 'error') expect(() => expandWord(source, env)).toThrow(DockerfileExpansionError);
    else expect(expandWord(source, env).value).toBe(expected);
  });

  test('wordsTest: every line splits into its words', () => {
    const env = new Map<string, string>();
    let checked = 0;
    for (const { line, n } of lines('wordsTest')) {
      if (line.startsWith('#') || line === '') continue;
      if (line.startsWith('ENV ')) {
        const kv = line.slice(3).replace(/^ +/, '');
        const eq = kv.indexOf('=');
        env.set(kv.slice(0, eq), kv.slice(eq + 1));
        continue;
      }
      const [test, words] = line.split('|');
      const expected = words.replace(/^ +/, '').split(',');
      let got: string[];
      try {
        got = expandWord(test.trim(), env).words;
      } catch {
        got = ['error'];
      }
      expect(got, `wordsTest line ${n}: ${test}`).toEqual(expected);
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
  });
});
