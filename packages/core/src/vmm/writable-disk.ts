import { existsSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { runCommand } from '../process.js';

/** How long after a start its spare is replaced. */
const SPARE_DELAY_MS = 250;

/** Spares being made now (by path), so two starts never make the same one twice. */
const making = new Set<string>();

async function makeDisk(path: string, sizeMiB: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
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

/**
 * Makes the next spare in the background; a failure only means the next start runs mkfs itself.
 * Its spawn (a fork of this process, tens of ms when it is large) waits until the start that took
 * the spare has gone on: the hypervisor is booting by then.
 */
function refillSpare(spare: string, sizeMiB: number): void {
  if (making.has(spare)) return;
  making.add(spare);
  setTimeout(() => {
    if (existsSync(spare)) return making.delete(spare);
    makeDisk(spare, sizeMiB)
      .catch(() => {})
      .finally(() => making.delete(spare));
  }, SPARE_DELAY_MS).unref();
}

/**
 * Creates the persistent writable layer of a container: a sparse ext4 image (nothing is written
 * until the guest writes). Reused across stop/start; the caller deletes it on rm. A no-op when the
 * file exists. Written under a temporary name and renamed, so a crash never leaves half a disk.
 *
 * With `spareDir` (on the same filesystem as `path`), a disk made ahead of time there is taken by
 * a rename and the next one is made in the background: a container's start does not wait for mkfs.
 */
export async function createWritableDisk(path: string, sizeMiB = 4096, o: { spareDir?: string } = {}): Promise<void> {
  if (existsSync(path)) return;
  if (o.spareDir) {
    const spare = `${o.spareDir}/.spare-rw-${sizeMiB}.ext4`;
    const taken = await rename(spare, path).then(
      () => true,
      () => false,
    );
    refillSpare(spare, sizeMiB);
    if (taken) return;
  }
  await makeDisk(path, sizeMiB);
}
