import { rm, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { VmError, bootGuestVm, runVm } from '../src/vmm/guest-vm.js';
import { assertVmPrerequisites, isAlive, makeBusyboxRootfs } from './helpers/vm.js';

let rootfs: string;

beforeAll(async () => {
  assertVmPrerequisites();
  rootfs = await makeBusyboxRootfs();
});
afterAll(async () => {
  await rm(rootfs, { recursive: true, force: true });
});

describe('kestrel on bad input: a clear error, a non-zero exit, and the VM powers off', () => {
  test('a missing program exits 127 and says so', async () => {
    const vm = await bootGuestVm({ rootfs: { dir: rootfs }, argv: ['no-such-program', 'x'] });
    const r = await vm.wait();
    expect(r.exitCode).toBe(127);
    expect(r.guestError).toBe('exec no-such-program: executable file not found in $PATH');
    expect(r.stderr).toContain('executable file not found');
    expect(isAlive(vm.pid)).toBe(false);
  });

  test('a file that is not executable exits 126', async () => {
    const r = await runVm({ rootfs: { dir: rootfs }, argv: ['/etc/passwd'] });
    expect(r.exitCode).toBe(126);
    expect(r.guestError).toMatch(/exec \/etc\/passwd: Permission denied/);
  });

  test('an empty argv is refused', async () => {
    const r = await runVm({ rootfs: { dir: rootfs }, argv: [] });
    expect(r.exitCode).toBe(125);
    expect(r.guestError).toMatch(/no command specified/);
  });

  test('an unknown user is refused with its name', async () => {
    const r = await runVm({ rootfs: { dir: rootfs }, argv: ['true'], user: 'nobody-here' });
    expect(r.exitCode).toBe(125);
    expect(r.guestError).toMatch(/unable to find user nobody-here/);
  });

  test('an unreadable root filesystem disk is reported, not a panic or a hang', async () => {
    const disk = `${rootfs}.garbage`;
    await writeFile(disk, Buffer.alloc(4 * 1024 * 1024, 0x5a));
    try {
      const r = await runVm({ rootfs: { disk }, argv: ['true'], timeoutMs: 60_000 });
      expect(r.exitCode).toBe(125);
      expect(r.guestError).toMatch(/cannot mount the root filesystem \/dev\/vda/);
    } finally {
      await rm(disk, { force: true });
    }
  });

  test('a missing rootfs directory fails on the host before any VM starts', async () => {
    await expect(runVm({ rootfs: { dir: '/nonexistent/rootfs' }, argv: ['true'] })).rejects.toMatchObject({
      code: 'ROOTFS_NOT_FOUND',
    });
  });

  test('a guest that never exits is killed at the timeout and nothing is left running', async () => {
    const vm = await bootGuestVm({ rootfs: { dir: rootfs }, argv: ['sleep', '1000'], timeoutMs: 4000 });
    const err = await vm.wait().then(
      () => undefined,
      (e) => e,
    );
    expect(err).toBeInstanceOf(VmError);
    expect(err.code).toBe('VM_TIMEOUT');
    expect(err.message).toMatch(/did not finish within 4000 ms/);
    expect(isAlive(vm.pid)).toBe(false);
  });

  test('a hypervisor that cannot start is a clear error naming the package', async () => {
    const { QemuAdapter } = await import('../src/vmm/qemu.js');
    await expect(
      runVm({ rootfs: { dir: rootfs }, argv: ['true'], adapter: new QemuAdapter('/nonexistent/qemu-system-x86_64') }),
    ).rejects.toMatchObject({
      message: expect.stringMatching(/not found/),
      hint: expect.stringMatching(/qemu-system-x86/),
    });
  });
});
