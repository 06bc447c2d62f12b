import { existsSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { runCommand } from '../process.js';

/**
 * Creates the persistent writable layer of a container: a sparse ext4 image (nothing is written
 * until the guest writes). Reused across stop/start; the caller deletes it on rm. A no-op when the
 * file exists. Written under a temporary name and renamed, so a crash never leaves half a disk.
 */
export async function createWritableDisk(path: string, sizeMiB = 4096): Promise<void> {
  if (existsSync(path)) return;
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const f = await open(tmp, 'w', 0o600);
    await f.truncate(sizeMiB * 1024 * 1024);
    await f.close();
    await runCommand('mkfs.ext4', ['-q', '-F', '-E', 'lazy_itable_init=1,lazy_journal_init=1', '-L', 'hypr-rw', tmp], {
      packageHint: 'e2fsprogs',
    });
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
