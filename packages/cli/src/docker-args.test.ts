import { describe, expect, test } from 'vitest';
import {
  type FlagShapes,
  normalizeBooleans,
  parseDuration,
  parseEnvFile,
  parseMemory,
  parseRestartPolicy,
  parseTimestamp,
  resolveEnv,
  splitAtFirstArg,
} from './docker-args.js';

// The shapes of a few `docker run` flags (from docker's reference).
const RUN: FlagShapes = {
  detach: { type: 'boolean', char: 'd' },
  interactive: { type: 'boolean', char: 'i' },
  tty: { type: 'boolean', char: 't' },
  rm: { type: 'boolean' },
  name: { type: 'option' },
  env: { type: 'option', char: 'e' },
  workdir: { type: 'option', char: 'w' },
  user: { type: 'option', char: 'u' },
  memory: { type: 'option', char: 'm' },
  'sig-proxy': { type: 'boolean', allowNo: true },
};

describe('flags stop at the image, as docker parses them', () => {
  test.each([
    [['busybox'], [], ['busybox']],
    [['-d', 'busybox'], ['-d'], ['busybox']],
    [['-dit', 'busybox', 'sh'], ['-dit'], ['busybox', 'sh']],
    [
      ['--rm', '--name', 'web', 'busybox', 'ls', '-l'],
      ['--rm', '--name', 'web'],
      ['busybox', 'ls', '-l'],
    ],
    [
      ['-e', 'A=1', 'busybox', 'env'],
      ['-e', 'A=1'],
      ['busybox', 'env'],
    ],
    [['-eA=1', 'busybox'], ['-eA=1'], ['busybox']],
    [['-itewhat=1', 'busybox'], ['-itewhat=1'], ['busybox']],
    [['-ie', 'A=1', 'busybox'], ['-ie', 'A=1'], ['busybox']],
    [['--name=web', 'busybox', '--name', 'x'], ['--name=web'], ['busybox', '--name', 'x']],
    [
      ['-m', '64m', 'busybox', '-m'],
      ['-m', '64m'],
      ['busybox', '-m'],
    ],
    [['--rm', '--', 'busybox', 'echo', '--', 'x'], ['--rm'], ['busybox', 'echo', '--', 'x']],
    [['busybox', '--', 'echo'], [], ['busybox', '--', 'echo']],
    [
      ['-w', '/tmp', '-u', '1000', 'busybox', 'pwd'],
      ['-w', '/tmp', '-u', '1000'],
      ['busybox', 'pwd'],
    ],
  ])('%j', (argv, head, rest) => {
    expect(splitAtFirstArg(argv, RUN)).toEqual({ head, rest });
  });
});

test('--bool=false and --bool=true are accepted, as docker does', () => {
  expect(normalizeBooleans(['--rm=true', '--sig-proxy=false', '--detach=false', '--name=x'], RUN)).toEqual([
    '--rm',
    '--no-sig-proxy',
    '--name=x',
  ]);
});

describe('memory sizes are RAMInBytes', () => {
  test.each([
    ['64m', 64 * 1024 ** 2],
    ['64M', 64 * 1024 ** 2],
    ['1g', 1024 ** 3],
    ['1.5GB', 1.5 * 1024 ** 3],
    ['512k', 512 * 1024],
    ['1048576', 1048576],
    ['256mb', 256 * 1024 ** 2],
  ])('%s', (text, bytes) => expect(parseMemory(text)).toBe(bytes));
  test.each(['', 'lots', '-1m', '1x'])('%j is refused', (text) =>
    expect(() => parseMemory(text)).toThrow(/invalid size/),
  );
});

describe('durations are Go durations', () => {
  test.each([
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['1h', 3_600_000],
    ['0', 0],
  ])('%s', (text, ms) => expect(parseDuration(text)).toBe(ms));
  test.each(['30', '1x', 's', ''])('%j is refused', (text) => expect(() => parseDuration(text)).toThrow());
});

test('-e NAME takes the value from the environment and is dropped when unset', () => {
  expect(resolveEnv(['A=1', 'HOME', 'UNSET_VAR', 'B='], { HOME: '/root' })).toEqual(['A=1', 'HOME=/root', 'B=']);
  expect(() => resolveEnv(['=x'])).toThrow(/invalid environment variable/);
});

test('env files skip comments and blank lines, and keep = in values', () => {
  expect(parseEnvFile('# c\n\nA=1\n  B=x=y\nC\n', { C: 'from-env' })).toEqual(['A=1', 'B=x=y', 'C=from-env']);
  expect(() => parseEnvFile('BAD NAME=1')).toThrow(/whitespaces/);
});

describe('restart policies', () => {
  test.each([
    ['no', { name: 'no', maximumRetryCount: 0 }],
    ['always', { name: 'always', maximumRetryCount: 0 }],
    ['unless-stopped', { name: 'unless-stopped', maximumRetryCount: 0 }],
    ['on-failure', { name: 'on-failure', maximumRetryCount: 0 }],
    ['on-failure:3', { name: 'on-failure', maximumRetryCount: 3 }],
  ])('%s', (text, policy) => expect(parseRestartPolicy(text)).toEqual(policy));
  test.each(['sometimes', 'always:3', 'on-failure:x', 'on-failure:1:2'])('%s is refused', (text) =>
    expect(() => parseRestartPolicy(text)).toThrow(/restart policy/),
  );
});

test('--since takes RFC 3339, unix seconds and durations back from now', () => {
  expect(parseTimestamp('2024-01-02T03:04:05Z')).toBe(Date.UTC(2024, 0, 2, 3, 4, 5));
  expect(parseTimestamp('1700000000')).toBe(1_700_000_000_000);
  expect(parseTimestamp('10m', 1_000_000_000)).toBe(1_000_000_000 - 600_000);
});
