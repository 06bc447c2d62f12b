import { lstatSync, readdirSync } from 'node:fs';
import { lstat, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Logger, silentLogger } from '../log.js';
import { runCommand } from '../process.js';

export type RootfsDiskFormat = 'ext4' | 'erofs';

export interface CreateDiskOptions {
  /** Filesystem label. Default `hypr-rootfs`. */
  label?: string;
  signal?: AbortSignal;
  logger?: Logger;
}

/**
 * Bytes and inodes a tree needs, counted in 4 KiB blocks. Synchronous on purpose (as the unpack's
 * metadata calls): a few microseconds per call against tens through the thread pool; 1,500 files
 * took 77-190 ms the async way.
 */
function measureTree(dir: string): { bytes: number; inodes: number } {
  let bytes = 0;
  let inodes = 1;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      inodes++;
      if (e.isDirectory()) {
        bytes += 4096;
        walk(join(d, e.name));
      } else if (e.isFile()) {
        bytes += Math.ceil(lstatSync(join(d, e.name)).size / 4096) * 4096;
      } // symlinks: short targets live in the inode
    }
  };
  walk(dir);
  return { bytes, inodes };
}

/**
 * Makes an ext4 image of `srcDir` with `mkfs.ext4 -d` (no root, loop device or mount needed):
 * no journal (the disk is read-only), no reserved blocks, sized to the tree plus headroom.
 */
export async function createExt4Image(
  srcDir: string,
  outPath: string,
  opts: CreateDiskOptions = {},
): Promise<{ sizeBytes: number }> {
  const log = (opts.logger ?? silentLogger).child({ op: 'mkfs.ext4' });
  const { bytes, inodes } = measureTree(srcDir);
  const inodeCount = Math.ceil(inodes * 1.1) + 256;
  // Metadata: 256 B per inode, block bitmaps, group descriptors; 10% + 8 MiB covers small and large trees.
  const raw = bytes + inodeCount * 256 + Math.ceil(bytes * 0.1) + (8 << 20);
  const sizeBytes = Math.ceil(raw / (1 << 20)) * (1 << 20);
  await rm(outPath, { force: true });
  const fh = await open(outPath, 'wx', 0o644);
  try {
    await fh.truncate(sizeBytes);
  } finally {
    await fh.close();
  }
  await runCommand(
    'mkfs.ext4',
    [
      '-q',
      '-F',
      '-b',
      '4096',
      '-N',
      String(inodeCount),
      '-m',
      '0',
      '-O',
      '^has_journal,^resize_inode',
      '-E',
      'lazy_itable_init=0,root_owner=0:0',
      '-L',
      (opts.label ?? 'hypr-rootfs').slice(0, 16),
      '-d',
      srcDir,
      outPath,
    ],
    { signal: opts.signal, packageHint: 'e2fsprogs', log: opts.logger },
  );
  log.debug({ sizeBytes, inodes: inodeCount }, 'ext4 image made');
  return { sizeBytes };
}

/** Makes an erofs image of `srcDir` (no label: erofs-utils 1.5 has no -L; compact, read-only by design; needs erofs in the guest kernel). */
export async function createErofsImage(
  srcDir: string,
  outPath: string,
  opts: CreateDiskOptions = {},
): Promise<{ sizeBytes: number }> {
  await rm(outPath, { force: true });
  await runCommand('mkfs.erofs', ['--quiet', '--preserve-mtime', outPath, srcDir], {
    signal: opts.signal,
    packageHint: 'erofs-utils',
    log: opts.logger,
  });
  return { sizeBytes: (await lstat(outPath)).size };
}

/** Makes a read-only root filesystem image of `srcDir` in the given format. */
export function createRootfsDisk(
  srcDir: string,
  outPath: string,
  format: RootfsDiskFormat,
  opts: CreateDiskOptions = {},
): Promise<{ sizeBytes: number }> {
  return format === 'erofs' ? createErofsImage(srcDir, outPath, opts) : createExt4Image(srcDir, outPath, opts);
}

/** Puts a finished disk image in place: its data on disk first, then one rename (a crash leaves the old or the new). */
export async function syncAndRename(tmp: string, path: string): Promise<void> {
  const fh = await open(tmp, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}
