// Disk space a path takes, as `du` counts it: allocated blocks, so a sparse writable layer counts what it holds.
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Allocated bytes of `path` and everything under it (symlinks not followed); 0 when it is gone. */
export async function allocatedBytes(path: string): Promise<number> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) return 0;
  let total = st.isDirectory() ? 0 : st.blocks * 512;
  if (st.isDirectory()) {
    const entries = await readdir(path).catch(() => [] as string[]);
    for (const e of entries) total += await allocatedBytes(join(path, e));
  }
  return total;
}
