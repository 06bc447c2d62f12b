/**
 * Shared set-up for tests that boot real VMs. There is no fake hypervisor: when QEMU, the kernel
 * or kestrel is missing, these helpers throw, so the VM tests fail loudly (in CI and elsewhere)
 * instead of skipping.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestArtifacts } from '../../src/vmm/guest-vm.js';

export const BUSYBOX = '/bin/busybox';

export function assertVmPrerequisites(): void {
  try {
    execFileSync('sh', ['-c', 'command -v qemu-system-x86_64'], { stdio: 'ignore' });
  } catch {
    throw new Error('qemu-system-x86_64 is not installed: run scripts/setup.sh (package qemu-system-x86)');
  }
  guestArtifacts(); // throws GUEST_KERNEL_MISSING / GUEST_KESTREL_MISSING with a hint
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: install busybox-static`);
}

/** A root filesystem directory holding a static busybox and its applets, plus /etc/passwd and /etc/group. */
export async function makeBusyboxRootfs(parent?: string): Promise<string> {
  const root = await mkdtemp(join(parent ?? tmpdir(), 'hypr-rootfs-'));
  await mkdir(join(root, 'bin'), { recursive: true });
  await mkdir(join(root, 'etc'), { recursive: true });
  await mkdir(join(root, 'tmp'), { recursive: true });
  await chmod(join(root, 'tmp'), 0o1777);
  await copyFile(BUSYBOX, join(root, 'bin/busybox'));
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const a of applets) if (a !== 'busybox') await symlink('busybox', join(root, 'bin', a)).catch(() => {});
  const { writeFile } = await import('node:fs/promises');
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n');
  await writeFile(join(root, 'etc/group'), 'root:x:0:\napp:x:1000:\nstaff:x:50:app\n');
  return root;
}

/** Whether a process with this pid is still alive. */
export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
