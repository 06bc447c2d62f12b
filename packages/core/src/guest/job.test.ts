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

test("the container's /dev options travel as s, V and v records", () => {
  const records = encodeJob({
    argv: ['true'],
    env: [],
    root: '/dev/vda',
    clockMs: 1,
    shmSizeBytes: 128 * 1024 * 1024,
    privileged: true,
    devices: ['/dev/vdc'],
  })
    .toString()
    .split('\0');
  expect(records).toEqual(expect.arrayContaining(['s=134217728', 'V=1', 'v=/dev/vdc']));
  expect(() => encodeJob({ argv: ['a'], env: [], root: '/dev/vda', devices: ['/dev/../etc'] })).toThrow(/under \/dev/);
  expect(() => encodeJob({ argv: ['a'], env: [], root: '/dev/vda', shmSizeBytes: 0 })).toThrow(/shm size/);
});

test('an ephemeral writable layer (run --rm) travels as e=1, only beside its device', () => {
  const records = (o: { upperDevice?: string; ephemeralUpper?: boolean }) =>
    encodeJob({ argv: ['true'], env: [], root: '/dev/vda', clockMs: 1, ...o })
      .toString()
      .split('\0')
      .filter((r) => /^[Pe]=/.test(r));
  expect(records({ upperDevice: '/dev/vdb', ephemeralUpper: true })).toEqual(['P=/dev/vdb', 'e=1']);
  expect(records({ upperDevice: '/dev/vdb' })).toEqual(['P=/dev/vdb']);
  // a tmpfs upper layer is never flushed anyway
  expect(records({ ephemeralUpper: true })).toEqual([]);
});
