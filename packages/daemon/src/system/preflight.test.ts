import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import {
  type PreflightProbe,
  checkHost,
  dependencyWarnings,
  detectDistro,
  installCommand,
  preflightError,
} from './preflight.js';

const DEBIAN_12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n';
const UBUNTU_24 = 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\n';
const FEDORA = 'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=41\n';

/** A host with exactly `files` executable and QEMU answering `qemuVersion`. */
function fakeHost(
  files: string[],
  opts: { osRelease?: string; qemuVersion?: string; env?: NodeJS.ProcessEnv } = {},
): PreflightProbe {
  return {
    env: {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HYPR_ACCEL: 'tcg',
      HYPR_VIRTIOFSD: '/usr/libexec/virtiofsd',
      ...opts.env,
    },
    platform: 'linux',
    arch: 'x64',
    isRoot: true,
    osRelease: () => opts.osRelease ?? DEBIAN_12,
    isExecutable: (p) => files.includes(p),
    version: async () => opts.qemuVersion ?? 'QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7)',
  };
}

const ALL = ['/usr/bin/qemu-system-x86_64', '/usr/libexec/virtiofsd', '/usr/bin/mkfs.ext4'];

test('a host with everything passes; TCG is a warning, not an error', async () => {
  const checks = await checkHost(fakeHost(ALL));
  expect(checks.map((c) => c.name)).toEqual(['hypervisor', 'virtiofsd', 'mkfs.ext4', 'guest', 'accelerator']);
  expect(checks.find((c) => c.name === 'hypervisor')?.detail).toContain('/usr/bin/qemu-system-x86_64 (QEMU emulator');
  expect(preflightError(checks)).toBeUndefined();
  expect(dependencyWarnings(checks)).toEqual([expect.stringContaining('accelerator: tcg')]);
});

test('no QEMU on Debian: hyprd refuses to start and names apt-get install qemu-system-x86', async () => {
  const err = preflightError(await checkHost(fakeHost(ALL.slice(1))));
  expect(err?.code).toBe('HOST_DEPENDENCY_MISSING');
  expect(err?.message).toContain('no qemu-system-x86_64 on PATH');
  expect(err?.hint).toBe('apt-get install qemu-system-x86');
});

test('no QEMU on Fedora names dnf, on macOS vfkit names brew', async () => {
  const fedora = preflightError(await checkHost(fakeHost(ALL.slice(1), { osRelease: FEDORA })));
  expect(fedora?.hint).toBe('dnf install qemu-system-x86-core');
  const mac = { ...fakeHost(['/usr/bin/mkfs.ext4']), platform: 'darwin' as const };
  expect(preflightError(await checkHost(mac))?.hint).toBe('brew install vfkit');
});

test('a QEMU older than 6.0 is refused with its version', async () => {
  const err = preflightError(await checkHost(fakeHost(ALL, { qemuVersion: 'QEMU emulator version 5.0.1' })));
  expect(err?.message).toContain('is QEMU 5.0: HYPR needs 6.0 or later');
});

test('no virtiofsd is a warning naming the package of this release', async () => {
  const debian = dependencyWarnings(await checkHost(fakeHost(ALL.filter((f) => !f.includes('virtiofsd')))));
  expect(debian[0]).toMatch(/^virtiofsd: .*fall back to 9p.*\(apt-get install qemu-system-common\)$/);
  const ubuntu = fakeHost(
    ALL.filter((f) => !f.includes('virtiofsd')),
    { osRelease: UBUNTU_24 },
  );
  expect(dependencyWarnings(await checkHost(ubuntu))[0]).toContain('(apt-get install virtiofsd)');
});

test('mkfs.ext4 in /usr/sbin but not on PATH says to add /usr/sbin', async () => {
  const err = preflightError(await checkHost(fakeHost([ALL[0], ALL[1], '/usr/sbin/mkfs.ext4'])));
  expect(err?.message).toContain('/usr/sbin/mkfs.ext4 exists but is not on PATH');
  expect(err?.hint).toBe('export PATH="$PATH:/usr/sbin"');
  const none = preflightError(await checkHost(fakeHost(ALL.slice(0, 2))));
  expect(none?.hint).toBe('apt-get install e2fsprogs');
});

test('os-release: ID_LIKE picks the package manager', () => {
  expect(detectDistro(UBUNTU_24, 'linux')).toEqual({ manager: 'apt', id: 'ubuntu', version: '24.04' });
  expect(detectDistro('ID="rocky"\nID_LIKE="rhel centos fedora"\n', 'linux').manager).toBe('dnf');
  expect(detectDistro('ID=opensuse-tumbleweed\nID_LIKE="opensuse suse"\n', 'linux').manager).toBe('zypper');
  expect(installCommand('qemu', detectDistro('', 'linux'))).toBe(
    "install qemu with your distribution's package manager",
  );
});

test('hyprd with QEMU hidden from PATH exits at start naming the package to install', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hypr-preflight-'));
  try {
    symlinkSync(process.execPath, join(dir, 'node'));
    const bin = join(import.meta.dirname, '../../bin/hyprd.js');
    const r = spawnSync(process.execPath, [bin, '--data-root', join(dir, 'data'), '-H', `unix://${dir}/s.sock`], {
      env: { PATH: dir, HOME: dir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const osRelease = (() => {
      try {
        return readFileSync('/etc/os-release', 'utf8');
      } catch {
        return '';
      }
    })();
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain('no qemu-system-x86_64 on PATH');
    expect(r.stderr).toContain(installCommand('qemu', detectDistro(osRelease)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
