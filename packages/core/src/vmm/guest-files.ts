/**
 * The files a guest boots from: the kernel, and an initramfs holding Kestrel as /init and the job
 * at /hypr/job (mode 0400: the job may carry secrets and never goes on the kernel command line).
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
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

/** The last Kestrel binary read, by path: every VM's initramfs carries it, and it rarely changes. */
let kestrelCache: { path: string; mtimeMs: number; size: number; data: Buffer } | undefined;

/** Kestrel's bytes, read again only when the file has changed (a rebuild) since the last read. */
async function readKestrel(path: string): Promise<Buffer> {
  const st = statSync(path);
  const c = kestrelCache;
  if (c && c.path === path && c.mtimeMs === st.mtimeMs && c.size === st.size) return c.data;
  const data = await readFile(path);
  kestrelCache = { path, mtimeMs: st.mtimeMs, size: st.size, data };
  return data;
}

/** Writes the initramfs (kestrel + job) into dir and returns its path. */
export async function writeGuestInitrd(dir: string, kestrel: string, job: Buffer): Promise<string> {
  const initrd = writeCpio([
    { path: 'init', mode: 0o755, data: await readKestrel(kestrel) },
    { path: 'hypr', type: 'dir', mode: 0o700 },
    { path: JOB_PATH, mode: 0o400, data: job },
  ]);
  const path = join(dir, 'initrd.cpio');
  // One synchronous write into the page cache (tens of KB): microseconds, where an asynchronous
  // one waits on the thread pool for its open, write and close, just before the VM starts.
  writeFileSync(path, initrd, { mode: 0o600 });
  return path;
}
