/**
 * An arm64 guest, booted for real: the arm64 kernel and Kestrel (scripts/setup.sh cross-builds
 * them into guest/out/arm64) under qemu-system-aarch64 -M virt, emulated (TCG) on this x86_64 host,
 * through the hypr-vm CLI (`--platform linux/arm64`). The program is a small static arm64 binary
 * built here with the same cross toolchain, so the test needs no download. Without QEMU for arm64,
 * the guest or the toolchain this test fails, never skips.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { guestArtifactsFor } from '../src/vmm/platform.js';

const MUSL_SPECS = '/usr/lib/aarch64-linux-musl/musl-gcc.specs';

/** Prints `uname -m` on stdout and a line on stderr, exits with argv[1]. */
const PROGRAM = `#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>
int main(int argc, char **argv)
{
	struct utsname u;
	uname(&u);
	printf("%s\\n", u.machine);
	fprintf(stderr, "from arm64\\n");
	return argc > 1 ? atoi(argv[1]) : 0;
}
`;

let dir: string;
let rootfs: string;
beforeAll(async () => {
  for (const binary of ['qemu-system-aarch64', 'aarch64-linux-gnu-gcc'])
    execFileSync('sh', ['-c', 'command -v "$0" >/dev/null', binary], { stdio: 'ignore' });
  guestArtifactsFor('arm64'); // a HyprError naming scripts/build-kernel.sh arm64 when missing
  dir = await mkdtemp(join(tmpdir(), 'hypr-arm64-'));
  rootfs = join(dir, 'rootfs');
  await mkdir(join(rootfs, 'bin'), { recursive: true });
  await mkdir(join(rootfs, 'etc'), { recursive: true });
  await writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await writeFile(join(dir, 'machine.c'), PROGRAM);
  execFileSync('aarch64-linux-gnu-gcc', [
    '-specs',
    MUSL_SPECS,
    '-static',
    '-Os',
    '-o',
    join(rootfs, 'bin/machine'),
    join(dir, 'machine.c'),
  ]);
}, 120_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs the hypr-vm CLI from source; its real stdout, stderr and exit code. */
function hyprVm(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(
      resolve('node_modules/.bin/tsx'),
      [resolve('packages/core/test/helpers/hypr-vm-main.ts'), ...args],
      {
        env: { ...process.env, HYPR_QUIET: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => {
      stdout += b;
    });
    child.stderr.on('data', (b) => {
      stderr += b;
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

test('hypr-vm --platform linux/arm64 boots the arm64 guest: aarch64, its output and its exit code', async () => {
  const r = await hyprVm([
    '--platform',
    'linux/arm64',
    '--memory',
    '256',
    '--rootfs',
    rootfs,
    '--',
    '/bin/machine',
    '6',
  ]);
  expect(r, r.stderr).toMatchObject({ code: 6, stdout: 'aarch64\n' });
  expect(r.stderr).toContain('from arm64\n');
}, 300_000);
