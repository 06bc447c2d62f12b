import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { SourceError } from '../errors.js';
import { DockerfileError } from './errors.js';
import { type DockerfileNode, parseDockerfileAst } from './parser.js';
import { printDockerfile } from './printer.js';
import { parseDockerfile } from './stages.js';

const ast = (src: string) => parseDockerfileAst(src);
const nodes = (src: string) => ast(src).nodes;

function failure(src: string): DockerfileError {
  try {
    parseDockerfileAst(src, { file: 'Dockerfile' });
  } catch (e) {
    expect(e).toBeInstanceOf(DockerfileError);
    return e as DockerfileError;
  }
  throw new Error('expected a parse error');
}

describe('the Dockerfile lexer and parser', () => {
  test('keywords are case-insensitive and kept with their lines', () => {
    const n = nodes('from alpine\n\n  run echo hi\nCmd ["sh"]\n');
    expect(n.map((x) => [x.keyword, x.line, x.column])).toEqual([
      ['FROM', 1, 1],
      ['RUN', 3, 3],
      ['CMD', 4, 1],
    ]);
    expect(n[2]).toMatchObject({ json: true, args: ['sh'] });
  });

  test('continuations join lines, skipping comments and empty lines inside them', () => {
    const a = ast('FROM a\nRUN apt-get update && \\\n    # a comment\n\n    apt-get install -y curl\nUSER x\n');
    expect(a.nodes[1]).toMatchObject({ line: 2, endLine: 5, args: ['apt-get update &&     apt-get install -y curl'] });
    expect(a.nodes[2].line).toBe(6);
    expect(a.emptyContinuationLines).toEqual([2]);
  });

  test('CRLF files and a UTF-8 BOM parse like plain ones', () => {
    const plain = nodes('FROM a\nRUN x \\\n  y\n');
    const crlf = nodes('\ufeffFROM a\r\nRUN x \\\r\n  y\r\n');
    expect(crlf.map((n) => n.args)).toEqual(plain.map((n) => n.args));
  });

  test('parser directives are read only at the top', () => {
    const a = ast(
      '# syntax=docker/dockerfile:1\n#escape=`\n# check=skip=JSONArgsRecommended\nFROM a\n# escape=\\\nRUN a `\n b\n',
    );
    expect(a.directives).toEqual({ syntax: 'docker/dockerfile:1', escape: '`', check: 'skip=JSONArgsRecommended' });
    expect(a.nodes[1].args).toEqual(['a  b']);
    expect(ast('# hello\n# escape=`\nFROM a\n').directives).toEqual({});
    expect(ast('\n# escape=`\nFROM a\n').directives).toEqual({});
  });

  test('bad directives are located errors', () => {
    expect(failure('# escape=x\nFROM a\n')).toMatchObject({ code: 'DOCKERFILE_INVALID_ESCAPE', line: 1 });
    expect(failure('# escape=`\n# escape=`\nFROM a\n')).toMatchObject({
      code: 'DOCKERFILE_DUPLICATE_DIRECTIVE',
      line: 2,
    });
  });

  test('heredocs: several on one line, <<- strips tabs, quoted delimiters disable expansion', () => {
    const src = 'FROM a\nRUN <<A cat <<-"B" > /x\none $V\nA\n\ttwo\n\tB\nCOPY <<EOF /etc/c\nc\nEOF\n';
    const n = nodes(src);
    expect(n[1].heredocs).toEqual([
      { name: 'A', expand: true, chomp: false, fd: 0, content: 'one $V\n', line: 3 },
      { name: 'B', expand: false, chomp: true, fd: 0, content: 'two\n', line: 5 },
    ]);
    expect(n[1]).toMatchObject({ line: 2, endLine: 6 });
    expect(n[2]).toMatchObject({ keyword: 'COPY', line: 7, endLine: 9, args: ['<<EOF', '/etc/c'] });
  });

  test('an unterminated heredoc points at its instruction', () => {
    expect(failure('FROM a\nRUN <<EOF\necho hi\n')).toMatchObject({ code: 'DOCKERFILE_UNTERMINATED_HEREDOC', line: 2 });
  });

  test('exec form in JSON does not open heredocs', () => {
    expect(nodes('FROM a\nRUN ["echo", "<<EOF"]\n')[1].heredocs).toEqual([]);
  });

  test('unknown instructions suggest the closest one', () => {
    const e = failure('FROM a\nRUNN echo\n');
    expect(e).toBeInstanceOf(SourceError);
    expect(e).toMatchObject({ code: 'DOCKERFILE_UNKNOWN_INSTRUCTION', line: 2, file: 'Dockerfile' });
    expect(e.message).toBe('unknown instruction: RUNN (did you mean RUN?)');
    expect(e.format()).toContain('Dockerfile:2:1: unknown instruction');
  });

  test('flags are split off with their quoting', () => {
    const n = nodes('FROM a\nCOPY --from=build --chown="app user" --link src dst\n')[1];
    expect(n.flags).toEqual([
      { name: 'from', value: 'build' },
      { name: 'chown', value: 'app user' },
      { name: 'link', value: undefined },
    ]);
    expect(n.args).toEqual(['src', 'dst']);
  });

  test('ENV and LABEL in key=value and legacy forms', () => {
    const n = nodes('FROM a\nENV A=1 B="x y" C=z\\ w\nENV LEGACY some value here\nLABEL "com.x"="y"\n');
    expect(n[1].pairs).toEqual([
      { key: 'A', value: '1' },
      { key: 'B', value: '"x y"' },
      { key: 'C', value: 'z\\ w' },
    ]);
    expect(n[2]).toMatchObject({ legacy: true, pairs: [{ key: 'LEGACY', value: 'some value here' }] });
    expect(n[3].pairs).toEqual([{ key: '"com.x"', value: '"y"' }]);
    expect(failure('FROM a\nENV A=1 B\n').message).toContain(`can't find = in "B"`);
    expect(failure('FROM a\nENV ONLY\n').message).toBe('ENV must have two arguments');
  });

  test('HEALTHCHECK and ONBUILD parse their inner instruction', () => {
    const n = nodes(
      'FROM a\nHEALTHCHECK --interval=5s CMD ["curl", "-f", "http://x"]\nHEALTHCHECK NONE\nONBUILD COPY . /app\n',
    );
    expect(n[1]).toMatchObject({ healthcheckType: 'CMD', json: true, args: ['curl', '-f', 'http://x'] });
    expect(n[2]).toMatchObject({ healthcheckType: 'NONE', args: [] });
    expect(n[3].trigger).toMatchObject({ keyword: 'COPY', args: ['.', '/app'] });
    expect(failure('FROM a\nONBUILD ONBUILD RUN x\n').message).toBe('ONBUILD ONBUILD is not allowed');
    expect(failure('FROM a\nONBUILD FROM b\n').message).toBe("FROM isn't allowed as an ONBUILD trigger");
    // BuildKit's parser takes any type word (testfiles/health); its instruction parser refuses it.
    expect(nodes('FROM a\nHEALTHCHECK RUN x\n')[1]).toMatchObject({ healthcheckType: 'RUN', args: ['x'] });
    expect(() => parseDockerfile('FROM a\nHEALTHCHECK RUN x\n')).toThrow('Unknown type "RUN" in HEALTHCHECK');
  });

  test("a bare HEALTHCHECK parses, and fails at build time with BuildKit's message", () => {
    expect(nodes('FROM a\nHEALTHCHECK\n')[1]).toMatchObject({ keyword: 'HEALTHCHECK', args: [], flags: [] });
    expect(nodes('FROM a\nHEALTHCHECK CMD\n')[1]).toMatchObject({ healthcheckType: 'CMD', args: [] });
    const bare = () => parseDockerfile('FROM a\nHEALTHCHECK\n', { file: 'Dockerfile' });
    expect(bare).toThrow('HEALTHCHECK requires at least one argument');
    expect(bare).toThrow(expect.objectContaining({ line: 2, column: 1, file: 'Dockerfile' }));
    expect(() => parseDockerfile('FROM a\nHEALTHCHECK CMD\n')).toThrow('Missing command after HEALTHCHECK CMD');
  });

  test('a line ending in an escaped backslash is not a continuation (docker/for-win#5254)', () => {
    const n = nodes('FROM a\nENV C trailing\\\\backslash\\\\\nENV D next\n');
    expect(n.map((x) => x.keyword)).toEqual(['FROM', 'ENV', 'ENV']);
    expect(n[1].pairs).toEqual([{ key: 'C', value: 'trailing\\\\backslash\\\\' }]);
  });

  test('a JSON array of other things than strings is an error, as in BuildKit', () => {
    expect(failure('FROM a\nCMD [1, 2]\n').message).toBe(
      'when using JSON array syntax, arrays must be comprised of strings only',
    );
  });

  test('any text parses or fails with a located DockerfileError', () => {
    const line = fc.oneof(
      fc.string(),
      fc.constantFrom(
        'FROM a',
        'RUN x \\',
        '# escape=`',
        'RUN <<EOF',
        'EOF',
        '\\',
        '',
        'ENV a',
        'COPY <<-"X" y',
        '\tX',
      ),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), (lines) => {
        try {
          parseDockerfileAst(lines.join('\n'));
        } catch (e) {
          expect(e).toBeInstanceOf(DockerfileError);
          expect((e as DockerfileError).line).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 3000 },
    );
  });

  const word = fc.stringMatching(/^[a-z0-9_./:-]{1,8}$/);
  const nodeArb = fc.oneof(
    fc
      .record({ k: fc.constant('RUN'), args: fc.array(word, { minLength: 1, maxLength: 4 }) })
      .map((r) => `RUN ${r.args.join(' ')}`),
    fc.array(word, { minLength: 1, maxLength: 3 }).map((a) => `CMD ${JSON.stringify(a)}`),
    fc.tuple(word, word, fc.boolean()).map(([s, d, link]) => `COPY ${link ? '--link ' : ''}--chown="${s} x" ${s} ${d}`),
    fc.tuple(fc.stringMatching(/^[A-Z_]{1,6}$/), word).map(([k, v]) => `ENV ${k}="${v} ${v}"`),
    fc
      .tuple(word, fc.stringMatching(/^[a-z ]{0,12}$/))
      .map(([n, body]) => `RUN <<EOT${n.length}\n${body}\nEOT${n.length}`),
    word.map((w) => `WORKDIR /${w}`),
  );

  test('printing a parsed Dockerfile and parsing it again gives the same result', () => {
    const strip = (ns: DockerfileNode[]) =>
      ns.map(({ line, endLine, column, original, ...rest }) => ({
        ...rest,
        heredocs: rest.heredocs.map(({ line: _l, ...h }) => h),
        trigger: rest.trigger ? { keyword: rest.trigger.keyword, args: rest.trigger.args } : undefined,
      }));
    fc.assert(
      fc.property(fc.array(nodeArb, { maxLength: 10 }), (body) => {
        const src = `FROM alpine\n${body.join('\n')}\n`;
        const first = parseDockerfileAst(src);
        const second = parseDockerfileAst(printDockerfile(first));
        expect(strip(second.nodes)).toEqual(strip(first.nodes));
      }),
      // Found by CI: an argument `--` after the flags' terminator must be printed after one.
      { examples: [[['COPY --chown="-- x" -- --']], [['COPY -- --a b']]], numRuns: 2000 },
    );
  });
});
