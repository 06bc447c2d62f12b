import { expect, test } from 'vitest';
import { HyprError } from '../errors.js';
import { parseHyprVmArgs } from './hypr-vm.js';

function badValue(argv: string[]): HyprError {
  try {
    parseHyprVmArgs(argv);
  } catch (e) {
    return e as HyprError;
  }
  throw new Error(`${argv.join(' ')} was accepted`);
}

test.each([
  ['--timeout', 'abc'],
  ['--timeout', '-3'],
  ['--timeout', '0'],
  ['--memory', '12x'],
  ['--memory', '16'],
  ['--cpus', '1.5'],
  ['--cpus', 'many'],
])('hypr-vm %s %s is an error naming the flag and the value', (flag, value) => {
  const e = badValue(['--rootfs', '/tmp', `${flag}=${value}`, '--', 'true']);
  expect(e).toBeInstanceOf(HyprError);
  expect(e.code).toBe('INVALID_ARGUMENT');
  expect(e.message).toContain(flag);
  expect(e.message).toContain(value);
});

test('an unknown flag and a missing root are errors, not stack traces', () => {
  expect(badValue(['--rootfs', '/tmp', '--frobnicate']).message).toContain('--frobnicate');
  expect(badValue(['--', 'true']).message).toContain('exactly one of');
});

test('good values are taken as given', () => {
  const args = parseHyprVmArgs(['--disk', 'x.img', '-m', '512', '--cpus', '2', '--timeout', '2.5', '--', 'ls']);
  expect(args).toMatchObject({ source: { disk: 'x.img' }, memoryMiB: 512, cpus: 2, timeoutMs: 2500, command: ['ls'] });
});
