import { describe, expect, test } from 'vitest';
import { DockerfileError, parseDockerfile } from '../dockerfile/index.js';
import { createBuildGraph } from './dag.js';

const multi = `FROM golang:1.22 AS deps
RUN go mod download
FROM deps AS build
RUN go build -o /app
FROM node:20 AS web
RUN npm ci
FROM alpine AS unused
RUN true
FROM gcr.io/distroless/static AS final
COPY --from=build /app /app
COPY --from=web /dist /www
RUN --mount=type=bind,from=nginx:1.27,target=/n true
`;

describe('the build graph', () => {
  test('stages the target needs, in parallel levels; unreachable stages pruned', () => {
    const g = createBuildGraph(parseDockerfile(multi));
    expect(g.target).toBe(4);
    expect([...g.stages.keys()].sort()).toEqual([0, 1, 2, 4]);
    expect(g.levels).toEqual([[0, 2], [1], [4]]);
    expect(g.order).toEqual([0, 2, 1, 4]);
    expect(g.stages.get(4)).toMatchObject({ dependencies: [1, 2], images: ['nginx:1.27'] });
  });

  test('--target picks a stage by name, with did-you-mean when it is wrong', () => {
    const df = parseDockerfile(multi);
    expect(createBuildGraph(df, { target: 'web' }).levels).toEqual([[2]]);
    expect(() => createBuildGraph(df, { target: 'buld' })).toThrow(
      'target stage "buld" could not be found (did you mean build?)',
    );
  });

  test('COPY --from by index and forward references work; cycles are located errors', () => {
    const g = createBuildGraph(parseDockerfile('FROM a\nCOPY --from=1 /x /x\nFROM b AS second\nRUN x\n'), {
      target: undefined,
    });
    expect(g.target).toBe(1);
    const first = createBuildGraph(parseDockerfile('FROM a AS one\nCOPY --from=two /x /x\nFROM b AS two\nRUN x\n'), {
      target: 'one',
    });
    expect(first.levels).toEqual([[1], [0]]);
    const cyc = parseDockerfile('FROM a AS one\nCOPY --from=two /x /x\nFROM one AS two\n');
    try {
      createBuildGraph(cyc);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DockerfileError);
      expect(e).toMatchObject({ code: 'DOCKERFILE_CIRCULAR_DEPENDENCY' });
    }
  });
});
