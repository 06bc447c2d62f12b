import { expect, test } from 'vitest';
import { encodeJob } from './job.js';

test('the job is NUL-separated records in a fixed order', () => {
  const job = encodeJob({
    argv: ['sh', '-c', 'a b'],
    env: ['A=1', 'B=x=y'],
    workdir: '/w',
    user: 'app',
    root: '/dev/vda',
    stopGraceMs: 500,
    clockMs: 1700000000000,
  });
  expect(job.toString().split('\0')).toEqual([
    'A=sh',
    'A=-c',
    'A=a b',
    'E=A=1',
    'E=B=x=y',
    'W=/w',
    'U=app',
    'R=/dev/vda',
    'G=500',
    't=1700000000000',
    '',
  ]);
});

test('values with NUL bytes and env entries without = are refused', () => {
  expect(() => encodeJob({ argv: ['a\0b'], env: [], root: '/dev/vda' })).toThrow(/NUL/);
  expect(() => encodeJob({ argv: ['a'], env: ['NOEQUALS'], root: '/dev/vda' })).toThrow(/has no "="/);
});
