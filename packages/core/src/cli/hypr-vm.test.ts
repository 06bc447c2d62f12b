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

test('--platform picks the guest architecture; one HYPR has no guest for is an error naming it', () => {
  expect(parseHyprVmArgs(['--platform', 'linux/arm64', '--rootfs', '/r', '--', 'true']).arch).toBe('arm64');
  expect(parseHyprVmArgs(['--platform', 'linux/amd64', '--rootfs', '/r', '--', 'true']).arch).toBe('x64');
  expect(parseHyprVmArgs(['--rootfs', '/r', '--', 'true']).arch).toBeUndefined();
  const e = badValue(['--platform', 'linux/riscv64', '--rootfs', '/r', '--', 'true']);
  expect(e.message).toContain('--platform "linux/riscv64"');
});

test('HYPR_VMM naming a hypervisor that is not installed exits 125 with a message naming it', async () => {
  const { main } = await import('./hypr-vm.js');
  const written: string[] = [];
  const write = process.stderr.write;
  const saved = { vmm: process.env.HYPR_VMM, path: process.env.PATH };
  process.stderr.write = ((s: string) => written.push(String(s)) > 0) as typeof process.stderr.write;
  process.env.HYPR_VMM = 'cloud-hypervisor';
  process.env.PATH = '/nonexistent';
  try {
    expect(await main(['--rootfs', '/nonexistent-rootfs', '--', 'true'])).toBe(125);
  } finally {
    process.stderr.write = write;
    process.env.HYPR_VMM = saved.vmm;
    process.env.PATH = saved.path;
    if (saved.vmm === undefined) Reflect.deleteProperty(process.env, 'HYPR_VMM');
  }
  const text = written.join('');
  expect(text).toMatch(/HYPR_VMM=cloud-hypervisor: cloud-hypervisor is not installed/);
  expect(text).toMatch(/hint: install cloud-hypervisor/);
  expect(text).not.toMatch(/^\s+at /m);
});
