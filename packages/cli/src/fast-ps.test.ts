import { create, toJson } from '@bufbuild/protobuf';
import { ContainerSummarySchema, ListContainersResponseSchema } from '@hypr/api';
import { expect, test } from 'vitest';
import { parseFastPsArgs, renderFastPs, summaryFromJson } from './fast-ps.js';
import { psIds, psRow, psTable } from './ps-table.js';

test('the fast path takes the flags users type most, combined or not, and leaves the rest to oclif', () => {
  expect(parseFastPsArgs([])).toEqual({ all: false, quiet: false, size: false, latest: false, noTrunc: false });
  expect(parseFastPsArgs(['-aq'])).toMatchObject({ all: true, quiet: true });
  expect(parseFastPsArgs(['-a', '--no-trunc', '-s', '--latest'])).toMatchObject({
    all: true,
    noTrunc: true,
    size: true,
  });
  for (const args of [
    ['-n', '3'],
    ['--format', '{{.ID}}'],
    ['--filter', 'name=x'],
    ['--json'],
    ['-a', '-a'],
    ['-aa'],
    ['--all=false'],
    ['-h'],
    ['--help'],
    ['x'],
  ])
    expect(parseFastPsArgs(args), args.join(' ')).toBeUndefined();
});

const full = create(ContainerSummarySchema, {
  id: 'f'.repeat(64),
  name: 'web',
  image: 'nginx:1',
  imageId: 'sha256:abc',
  command: 'nginx -g daemon off; with a long tail',
  createdAt: 1_796_000_000_000n,
  state: 'running',
  status: 'Up 5 seconds',
  ports: ['0.0.0.0:8080->80/tcp', '443/tcp'],
  labels: { app: 'demo', tier: 'front' },
  exitCode: 3,
  sizeBytes: 12_345_678n,
  networks: ['bridge', 'db'],
});

test.each([
  ['every field set', full],
  ['every field at its default (left out of the JSON)', create(ContainerSummarySchema)],
])('a summary read from its JSON gives the same row as the message: %s', (_, message) => {
  const now = 1_796_000_100_000;
  const json = toJson(ContainerSummarySchema, message) as Record<string, unknown>;
  for (const noTrunc of [false, true])
    expect(psRow(summaryFromJson(json), noTrunc, now)).toEqual({
      ...psRow(message, noTrunc, now),
      Label: expect.any(Function),
    });
});

test("the fast path prints what the command prints for hyprd's answer", () => {
  const now = 1_796_000_100_000;
  const answer = create(ListContainersResponseSchema, { containers: [full, create(ContainerSummarySchema)] });
  const json = toJson(ListContainersResponseSchema, answer);
  const flags = { all: true, quiet: false, size: false, latest: false, noTrunc: false };
  const rows = answer.containers.map((c) => psRow(c, false, now));
  expect(renderFastPs(json, flags, now)).toBe(`${psTable(rows, false)}\n`);
  expect(renderFastPs(json, { ...flags, size: true }, now)).toBe(`${psTable(rows, true)}\n`);
  expect(renderFastPs(json, { ...flags, quiet: true, noTrunc: true }, now)).toBe(`${psIds(answer.containers, true)}\n`);
  expect(renderFastPs({}, { ...flags, quiet: true }, now)).toBe('');
  expect(renderFastPs({}, flags, now)).toBe(`${psTable([], false)}\n`);
});

test('an answer the fast path does not read is refused (oclif then runs the command)', () => {
  expect(() => summaryFromJson({ id: 7 })).toThrow();
  expect(() => summaryFromJson({ createdAt: 'soon' })).toThrow();
});
