/**
 * The files a guest boots from: the kernel, and an initramfs holding Kestrel as /init and the job
 * at /hypr/job (mode 0400: the job may carry secrets and never goes on the kernel command line).
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HyprError } from '../errors.js';
import { JOB_PATH } from '../guest/index.js';
import { resolveGuestDir } from '../paths.js';
import { writeCpio } from '../rootfs/initramfs.js';

export function guestArtifacts(opts: { kernelPath?: string; kestrelPath?: string } = {}): {
  kernel: string;
  kestrel: string;
} {
  const dir = resolveGuestDir();
  const kernel = opts.kernelPath ?? process.env.HYPR_KERNEL ?? join(dir, 'vmlinux');
  const kestrel = opts.kestrelPath ?? process.env.HYPR_KESTREL ?? join(dir, 'kestrel');
  if (!existsSync(kernel))
    throw new HyprError(
      'GUEST_KERNEL_MISSING',
      `guest kernel not found at ${kernel}`,
      'build it with scripts/build-kernel.sh (or set HYPR_KERNEL)',
    );
  if (!existsSync(kestrel))
    throw new HyprError(
      'GUEST_KESTREL_MISSING',
      `kestrel not found at ${kestrel}`,
      'build it with scripts/build-kestrel.sh (or set HYPR_KESTREL)',
    );
  return { kernel, kestrel };
}

/** Writes the initramfs (kestrel + job) into dir and returns its path. */
export async function writeGuestInitrd(dir: string, kestrel: string, job: Buffer): Promise<string> {
  const initrd = writeCpio([
    { path: 'init', mode: 0o755, data: await readFile(kestrel) },
    { path: 'hypr', type: 'dir', mode: 0o700 },
    { path: JOB_PATH, mode: 0o400, data: job },
  ]);
  const path = join(dir, 'initrd.cpio');
  await writeFile(path, initrd, { mode: 0o600 });
  return path;
}
