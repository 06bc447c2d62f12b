// One read-only disk per layer, shared between images and stacked with overlayfs in real microVMs
// (TCG here): without QEMU, the kernel or kestrel these tests fail, never skip.
import { execFileSync } from 'node:child_process';
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TarMemoryEntry } from '../src/image/tar-writer.js';
import { unpackImage } from '../src/image/unpack-image.js';
import { getImageRootfs, getLayerDisks, layerDisksEnabled, pruneRootfsCache } from '../src/rootfs/index.js';
import { planGuestStorage } from '../src/vmm/guest-storage.js';
import { runVm } from '../src/vmm/guest-vm.js';
import { createWritableDisk } from '../src/vmm/writable-disk.js';
import { type TestStore, loadTestImage, openTestStore } from './helpers/build-store.js';
import { buildBusyboxImage } from './helpers/busybox-image.js';
import { assertVmPrerequisites } from './helpers/vm.js';

const dir = (path: string, mode = 0o755): TarMemoryEntry => ({ path, type: 'directory', mode });
const file = (path: string, data: string): TarMemoryEntry => ({ path, type: 'file', mode: 0o644, data });

/** Over the busybox layer: a data directory, a file to delete later, a directory to replace later. */
const BASE_EXTRA: TarMemoryEntry[] = [
  dir('opt'),
  dir('opt/app'),
  file('opt/app/old.txt', 'old\n'),
  file('opt/app/keep.txt', 'keep\n'),
  dir('srv'),
  dir('srv/www'),
  file('srv/www/index.html', 'from the base\n'),
  file('etc/motd', 'base motd\n'),
];
/** The top layer: a new file, a whiteout, an opaque directory with new content. */
const TOP: TarMemoryEntry[] = [
  dir('etc'),
  file('etc/added', 'added on top\n'),
  file('etc/.wh.motd', ''),
  dir('srv/www'),
  file('srv/www/.wh..wh..opq', ''),
  file('srv/www/new.html', 'from the top\n'),
  dir('opt/app'),
  file('opt/app/.wh.old.txt', ''),
];

let ts: TestStore;
beforeAll(async () => {
  assertVmPrerequisites();
  ts = await openTestStore();
  await loadTestImage(ts.store, await buildBusyboxImage({ extraLayers: [BASE_EXTRA] }), 'base:1');
  await loadTestImage(ts.store, await buildBusyboxImage({ extraLayers: [BASE_EXTRA, TOP] }), 'top:1');
});
afterAll(async () => {
  await ts?.close();
});

const image = (ref: string) => {
  const img = ts.store.findImage(ref);
  if (!img) throw new Error(`${ref} is not in the test store`);
  return img;
};

describe('layer disks', () => {
  test('are on unless HYPR_LAYER_DISKS=0', () => {
    expect(layerDisksEnabled({})).toBe(true);
    expect(layerDisksEnabled({ HYPR_LAYER_DISKS: '0' })).toBe(false);
  });

  test('layer disks come first, read-only, bottom first; the writable disk after them', async () => {
    const { disks } = await getImageRootfs(ts.store, image('base:1'), { layers: true });
    const rw = join(ts.dir, 'plan-rw.ext4');
    await createWritableDisk(rw, 16);
    const plan = planGuestStorage({ rootfs: { disks: disks.map((d) => d.path), type: 'ext4' }, writableDisk: rw });
    expect(plan.root).toBe('/dev/vda,/dev/vdb');
    expect(plan.upperDevice).toBe('/dev/vdc');
    expect(plan.disks.map((d) => d.readOnly)).toEqual([true, true, false]);
    expect(() => planGuestStorage({ rootfs: { disks: [] } })).toThrow(/list of layer disks, but the list is empty/);
    expect(() => planGuestStorage({ rootfs: { disks: [disks[0].path, join(ts.dir, 'gone.ext4')] } })).toThrow(
      /gone\.ext4 does not exist/,
    );
  });

  test('images sharing a base share its layer disks; prune keeps a disk while an image has its layer', async () => {
    const base = await getImageRootfs(ts.store, image('base:1'), { layers: true });
    const top = await getImageRootfs(ts.store, image('top:1'), { layers: true });
    expect(base.layered).toBe(true);
    expect(base.disks).toHaveLength(2);
    expect(top.disks).toHaveLength(3);
    expect(top.disks.slice(0, 2).map((d) => d.path)).toEqual(base.disks.map((d) => d.path));
    expect(top.disks.slice(0, 2).every((d) => d.cached)).toBe(true); // made once, for base:1
    const layerDir = join(ts.store.root, 'rootfs');
    expect((await readdir(layerDir)).filter((n) => n.endsWith('.ext4'))).toHaveLength(3);

    ts.store.removeImage(image('top:1').digest, { force: true });
    const removed = await pruneRootfsCache(ts.store);
    expect(removed).toEqual([`${top.disks[2].key}.ext4`]);
    for (const d of base.disks) expect((await stat(d.path)).isFile()).toBe(true);
    await loadTestImage(ts.store, await buildBusyboxImage({ extraLayers: [BASE_EXTRA, TOP] }), 'top:1');
  });

  test('the guest sees the layers stacked: files from each, whiteouts and opaque directories honoured', async () => {
    const { disks } = await getImageRootfs(ts.store, image('top:1'), { layers: true });
    const rw = join(ts.dir, 'rw.ext4');
    await createWritableDisk(rw, 64);
    const rootfs = { disks: disks.map((d) => d.path), type: 'ext4' as const };
    const first = await runVm({
      rootfs,
      writableDisk: rw,
      argv: [
        'sh',
        '-c',
        'cat /etc/added /opt/app/keep.txt; ls /srv/www; [ -e /etc/motd ] || echo "no motd"; ' +
          '[ -e /opt/app/old.txt ] || echo "no old.txt"; [ -x /bin/busybox ] && echo busybox; ' +
          'echo written > /opt/app/mine.txt; rm /opt/app/keep.txt; grep -o "lowerdir=[^,]*" /proc/mounts',
      ],
    });
    expect(first.stdout).toBe(
      'added on top\nkeep\nnew.html\nno motd\nno old.txt\nbusybox\nlowerdir=/mnt/l0:/mnt/l1:/mnt/lower\n',
    );
    expect(first.exitCode).toBe(0);
    const second = await runVm({ rootfs, writableDisk: rw, argv: ['sh', '-c', 'ls /opt/app; cat /opt/app/mine.txt'] });
    expect(second.stdout).toBe('mine.txt\nwritten\n');
  });

  test('a stack is what the flattened disk holds (the same files, as `find` lists them in the guest)', async () => {
    const img = image('top:1');
    const listing = 'find / -xdev | sort | grep -v "^/lost+found"';
    const layered = await getImageRootfs(ts.store, img, { layers: true });
    const flat = await getImageRootfs(ts.store, img, { layers: false });
    expect(flat.layered).toBe(false);
    const a = await runVm({ rootfs: { disks: layered.disks.map((d) => d.path) }, argv: ['sh', '-c', listing] });
    const b = await runVm({ rootfs: { disk: flat.disks[0].path }, argv: ['sh', '-c', listing] });
    expect(a.stdout).toContain('/srv/www/new.html\n');
    expect(a.stdout).toBe(b.stdout);
  });

  test('an image with more layers than a guest takes as disks gets one flattened disk', async () => {
    const many = Array.from({ length: 17 }, (_, i) => [file(`l${i}.txt`, `${i}\n`)]);
    await loadTestImage(ts.store, await buildBusyboxImage({ extraLayers: many }), 'many:1');
    const r = await getImageRootfs(ts.store, image('many:1'), { layers: true });
    expect(r.layered).toBe(false);
    expect(r.disks).toHaveLength(1);
  });

  test('a hard link to a lower layer’s file falls back to the flattened disk', async () => {
    const linked: TarMemoryEntry[] = [{ path: 'opt/app/again.txt', type: 'link', linkpath: 'opt/app/keep.txt' }];
    await loadTestImage(ts.store, await buildBusyboxImage({ extraLayers: [BASE_EXTRA, linked] }), 'linked:1');
    await expect(getLayerDisks(ts.store, image('linked:1'))).rejects.toMatchObject({
      code: 'ROOTFS_LAYER_DISK_FAILED',
    });
    const r = await getImageRootfs(ts.store, image('linked:1'), { layers: true });
    expect(r.layered).toBe(false);
  });

  test('a layer deleting more files than it holds gets its own disk: each whiteout has an inode', async () => {
    const gone: TarMemoryEntry[] = Array.from({ length: 1200 }, (_, i) => file(`opt/app/.wh.gone${i}`, ''));
    await loadTestImage(ts.store, await buildBusyboxImage({ extraLayers: [BASE_EXTRA, gone] }), 'deletes:1');
    const disks = await getLayerDisks(ts.store, image('deletes:1'));
    expect(disks).toHaveLength(3);
    const listing = execFileSync('debugfs', ['-R', 'ls -l /opt/app', disks[2].path], { encoding: 'utf8' });
    expect(listing).toContain('gone1199');
  });

  test('the image total is capped across its layer disks, as for a flattened disk', async () => {
    // Each layer fits under the cap alone; the three (busybox, 3 MiB, 3 MiB) do not.
    const big = [file('opt/big.bin', 'x'.repeat(3 << 20))];
    await loadTestImage(ts.store, await buildBusyboxImage({ extraLayers: [big, big] }), 'capped:1');
    await expect(
      getLayerDisks(ts.store, image('capped:1'), { limits: { maxImageBytes: 6 << 20 } }),
    ).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE' });
  });

  test('unpacking one path of an image (a volume copy-up) honours the whiteouts of every layer', async () => {
    const out = join(ts.dir, 'only');
    await unpackImage(ts.store, image('top:1'), out, { only: '/srv/www' });
    expect(await readdir(join(out, 'srv/www'))).toEqual(['new.html']);
    expect(await readFile(join(out, 'srv/www/new.html'), 'utf8')).toBe('from the top\n');
    expect(execFileSync('find', [out, '-mindepth', '1'], { encoding: 'utf8' }).trim().split('\n').sort()).toEqual(
      [join(out, 'srv'), join(out, 'srv/www'), join(out, 'srv/www/new.html')].sort(),
    );
    await rm(out, { recursive: true, force: true });
  });
});
