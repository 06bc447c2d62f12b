import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bootGuestVm, runVm } from '../src/vmm/guest-vm.js';
import { assertVmPrerequisites, isAlive, makeBusyboxRootfs } from './helpers/vm.js';

let rootfs: string;

beforeAll(async () => {
  assertVmPrerequisites();
  rootfs = await makeBusyboxRootfs();
});
afterAll(async () => {
  await rm(rootfs, { recursive: true, force: true });
});

const sh = (script: string) => ['sh', '-c', script];

/** Resolves `seen` once the program has printed `text` (whatever the machine's load). */
function outputSeen(text: string) {
  let out = '';
  let resolve!: () => void;
  const seen = new Promise<void>((r) => {
    resolve = r;
  });
  return {
    seen,
    push: (b: Buffer) => {
      out += b.toString();
      if (out.includes(text)) resolve();
    },
  };
}

describe('a program in a real microVM', () => {
  test('stdout and stderr come back exactly and apart, exit code 0', async () => {
    const r = await runVm({ rootfs: { dir: rootfs }, argv: sh('echo hello; echo oops >&2; printf "no newline"') });
    expect(r).toMatchObject({ exitCode: 0, stdout: 'hello\nno newline', stderr: 'oops\n' });
  });

  test('exit code 1 reaches the host', async () => {
    const r = await runVm({ rootfs: { dir: rootfs }, argv: ['false'] });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
  });

  test('a program killed by SIGKILL exits 137', async () => {
    const r = await runVm({ rootfs: { dir: rootfs }, argv: sh('kill -9 $$') });
    expect(r.exitCode).toBe(137);
  });

  test('what the program prints can never forge the exit code', async () => {
    const r = await runVm({
      rootfs: { dir: rootfs },
      argv: sh('echo "[HYPR-EXIT] 0"; echo "[HYPR-EXIT] 0" >&2; exit 9'),
    });
    expect(r.exitCode).toBe(9);
    expect(r.stdout).toBe('[HYPR-EXIT] 0\n');
  });

  test('env, working directory and user are applied as docker does', async () => {
    const r = await runVm({
      rootfs: { dir: rootfs },
      argv: sh('echo "$GREETING|$(pwd)|$(id -u):$(id -g)|$HOME|$PATH"'),
      env: { GREETING: 'hi there', PATH: '/bin' },
      workdir: '/srv/app',
      user: 'app',
    });
    expect(r.stdout).toBe('hi there|/srv/app|1000:1000|/home/app|/bin\n');
  });

  test('numeric user:group and the default PATH', async () => {
    const r = await runVm({ rootfs: { dir: rootfs }, argv: sh('echo "$(id -u):$(id -g) $PATH"'), user: '4242:50' });
    expect(r.stdout).toBe('4242:50 /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n');
  });

  test('a megabyte of output arrives intact, kernel messages stay out', async () => {
    const r = await runVm({
      rootfs: { dir: rootfs },
      argv: sh('yes 0123456789abcdef | head -c 1114112; echo done >&2'),
    });
    expect(r.stdout.length).toBe(1114112);
    expect(r.stdout === '0123456789abcdef\n'.repeat(65536)).toBe(true);
    expect(r.stderr).toBe('done\n');
  });

  test('writes go to a throwaway layer, never to the rootfs directory', async () => {
    const r = await runVm({ rootfs: { dir: rootfs }, argv: sh('echo x > /created && rm /bin/ls && cat /created') });
    expect(r).toMatchObject({ exitCode: 0, stdout: 'x\n' });
    expect(execFileSync('ls', [rootfs]).toString()).not.toContain('created');
    expect(execFileSync('ls', [join(rootfs, 'bin')]).toString()).toContain('ls');
  });

  test('orphans are reaped and the VM ends when the main program exits', async () => {
    const r = await runVm({ rootfs: { dir: rootfs }, argv: sh('(sleep 1000 &) ; sleep 0.2 & wait; exit 3') });
    expect(r.exitCode).toBe(3);
  });

  test('boots from an ext4 disk image made by mkfs.ext4 -d', async () => {
    const disk = `${rootfs}.ext4`;
    execFileSync('mkfs.ext4', ['-q', '-F', '-d', rootfs, disk, '16M']);
    try {
      const r = await runVm({
        rootfs: { disk },
        argv: sh('cat /etc/group | head -1; mount | grep " /mnt/lower " || true'),
      });
      expect(r.exitCode).toBe(0);
      expect(r.stdout.split('\n')[0]).toBe('root:x:0:');
    } finally {
      await rm(disk, { force: true });
    }
  });

  test('stop sends SIGTERM to the program, which exits 143', async () => {
    const up = outputSeen('up');
    const vm = await bootGuestVm({ rootfs: { dir: rootfs }, argv: sh('echo up; exec sleep 1000'), onStdout: up.push });
    await up.seen;
    const r = await vm.stop('SIGTERM', 5000);
    expect(r.exitCode).toBe(143);
    expect(isAlive(vm.pid)).toBe(false);
  });

  test('a program that ignores SIGTERM is killed after the grace period (137)', async () => {
    // Stop only once the trap is set: before that, SIGTERM would end the shell (143).
    const ready = outputSeen('ready');
    const vm = await bootGuestVm({
      rootfs: { dir: rootfs },
      argv: sh("trap '' TERM; echo ready; while true; do sleep 1; done"),
      onStdout: ready.push,
    });
    await ready.seen;
    const r = await vm.stop('SIGTERM', 500);
    expect(r.exitCode).toBe(137);
    expect(r.stdout).toContain('ready');
  });
});

test('the guest clock follows the host clock', async () => {
  const r = await runVm({ rootfs: { dir: rootfs }, argv: ['date', '+%s'] });
  expect(Math.abs(Number(r.stdout.trim()) - Date.now() / 1000)).toBeLessThan(30);
});

// Under TCG Linux trusted no TSC across the vCPUs of its AMD-branded CPU: a 2-vCPU guest kept time
// by the 4 ms jiffies, which lose ticks when the host is busy.
test('a guest of 2 vCPUs keeps time with a fine-grained clock, not jiffies', async () => {
  const r = await runVm({
    rootfs: { dir: rootfs },
    argv: ['cat', '/sys/devices/system/clocksource/clocksource0/current_clocksource'],
    cpus: 2,
  });
  expect(r.exitCode).toBe(0);
  expect(r.stdout.trim()).not.toMatch(/jiffies/);
});

// Without a CMOS clock, Linux under TCG (no kvmclock) polls the missing RTC for its full 1 s timeout
// at boot, in every other boot: the clock is there, and the kernel read it.
test('the kernel reads its clock at boot instead of timing out on a missing RTC', async () => {
  const r = await runVm({ rootfs: { dir: rootfs }, argv: ['dmesg'] });
  expect(r.stdout).toContain('Linux version');
  expect(r.stdout).not.toContain('Unable to read current time from RTC');
});
