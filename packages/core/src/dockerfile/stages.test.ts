import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { SourceError } from '../errors.js';
import { parseDockerfile } from './stages.js';

describe('parseDockerfile', () => {
  test('returns stages with their base, and steps with keyword, line and expanded arguments', () => {
    const df = parseDockerfile('FROM node:20 AS build\nCOPY --chown=app . /src\nFROM build\nRUN make\n');
    expect(df.stages[0]).toMatchObject({ name: 'build', base: { kind: 'image', ref: 'node:20' } });
    expect(df.stages[0].steps[0]).toMatchObject({ keyword: 'COPY', line: 2, chown: 'app', destination: '/src' });
    expect(df.stages[1].base).toEqual({ kind: 'stage', index: 0, name: 'build' });
  });

  test('global ARGs reach FROM only; a stage redeclares them to use them', () => {
    const df = parseDockerfile('ARG V=1\nFROM alpine:$V\nENV A=${V:-unset}\nARG V\nENV B=$V\n', {
      buildArgs: { V: '2' },
    });
    expect(df.stages[0].base).toEqual({ kind: 'image', ref: 'alpine:2' });
    const envs = df.stages[0].steps.flatMap((s) => (s.keyword === 'ENV' ? s.env : []));
    expect(envs).toEqual([
      { key: 'A', value: 'unset' },
      { key: 'B', value: '2' },
    ]);
  });

  test('predefined platform ARGs are set once declared', () => {
    const df = parseDockerfile('FROM alpine\nARG TARGETARCH\nENV ARCH=$TARGETARCH\n', { platform: 'linux/arm64' });
    expect(df.stages[0].steps[1]).toMatchObject({ env: [{ key: 'ARCH', value: 'arm64' }] });
  });

  test('the base image environment feeds expansion and undefined-variable warnings', () => {
    const df = parseDockerfile('FROM node\nENV PATH=$PATH:/app/bin\nWORKDIR $HOMF\n', {
      baseImageEnv: () => ({ PATH: '/usr/bin', HOME: '/root' }),
    });
    expect(df.stages[0].steps[0]).toMatchObject({ env: [{ key: 'PATH', value: '/usr/bin:/app/bin' }] });
    const undefinedVars = df.warnings.filter((w) => w.rule === 'UndefinedVar');
    expect(undefinedVars.map((w) => w.line)).toEqual([3]);
    expect(undefinedVars[0].message).toBe("Usage of undefined variable '$HOMF' (did you mean $HOME?)");
  });

  test('warnings as docker build --check gives them, and # check=skip silences them', () => {
    const src = 'FROM alpine as Build\nMAINTAINER me\nCMD echo hi\n';
    expect(parseDockerfile(src).warnings.map((w) => w.rule)).toEqual([
      'FromAsCasing',
      'StageNameCasing',
      'MaintainerDeprecated',
      'JSONArgsRecommended',
    ]);
    expect(parseDockerfile(`# check=skip=all\n${src}`).warnings).toEqual([]);
  });

  test('steps carry the scope they run in', () => {
    const df = parseDockerfile('FROM alpine\nWORKDIR /a\nUSER app\nSHELL ["/bin/bash","-c"]\nRUN pwd\n');
    expect(df.stages[0].steps[3].scope).toEqual({
      args: {},
      env: {},
      workdir: '/a',
      user: 'app',
      shell: ['/bin/bash', '-c'],
    });
  });

  test('any text parses or fails with a SourceError that has a line', () => {
    const chunk = fc.constantFrom(
      'FROM a',
      'FROM $X AS b',
      'ARG X=1',
      'ENV A=${X',
      'COPY --from=b a b',
      'RUN <<E',
      'E',
      'EXPOSE 80/udp',
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(chunk, fc.string()), { maxLength: 10 }), (lines) => {
        try {
          parseDockerfile(lines.join('\n'));
        } catch (e) {
          expect(e).toBeInstanceOf(SourceError);
          expect((e as SourceError).line).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('a huge generated file parses without hanging', () => {
    const src = `FROM alpine\n${'RUN echo $A \\\n  && true\n'.repeat(20_000)}`;
    expect(parseDockerfile(src).stages[0].steps).toHaveLength(20_000);
  });
});
