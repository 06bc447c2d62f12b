/**
 * The container's writable layer disk across the two ways a VM ends: a stop, after which what the
 * program wrote is in the disk file, and a kill -9 of the hypervisor, after which the disk still
 * mounts (ext4's journal repairs it) with what the program had synced. An ephemeral layer (run
 * --rm) is never flushed, but the volumes beside it still are.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { type GuestVm, bootGuestVm, runVm } from '../src/vmm/guest-vm.js';
import { createWritableDisk } from '../src/vmm/writable-disk.js';
import { buildMmapWriter, mmapWriterContent } from './helpers/mmap-writer.js';
import { assertVmPrerequisites, makeBusyboxRootfs } from './helpers/vm.js';

let rootfs: string;
let work: string;

beforeAll(async () => {
  assertVmPrerequisites();
  rootfs = await makeBusyboxRootfs();
  work = await mkdtemp(join(tmpdir(), 'hypr-rw-'));
});
afterAll(async () => {
  await rm(rootfs, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

/** Boots a VM on `disk` running `script`, and resolves once it has printed "ready". */
async function bootUntilReady(disk: string, script: string): Promise<GuestVm> {
  let said = '';
  let ready: () => void = () => {};
  const isReady = new Promise<void>((r) => {
    ready = r;
  });
  const vm = await bootGuestVm({
    rootfs: { dir: rootfs },
    writableDisk: disk,
    argv: ['sh', '-c', script],
    onStdout: (b) => {
      said += b.toString();
      if (said.includes('ready\n')) ready();
    },
  });
  const ended = vm.wait().then((r) => {
    throw new Error(`the VM ended before it was ready: exit ${r.exitCode}, ${r.stderr}`);
  });
  await Promise.race([isReady, ended]);
  ended.catch(() => {});
  return vm;
}

test('what the program wrote, synced or not, is in its writable layer after a stop', async () => {
  const disk = join(work, 'stop.ext4');
  await createWritableDisk(disk, 64);
  const vm = await bootUntilReady(disk, 'echo plain > /plain; mkdir /d; echo nested > /d/f; echo ready; sleep 1000');
  expect((await vm.stop('SIGTERM', 5000)).exitCode).toBe(143);
  const next = await runVm({ rootfs: { dir: rootfs }, writableDisk: disk, argv: ['cat', '/plain', '/d/f'] });
  expect(next.stdout).toBe('plain\nnested\n');
}, 180_000);

test('after a kill -9 of the hypervisor the layer mounts again with what the program synced', async () => {
  const disk = join(work, 'killed.ext4');
  await createWritableDisk(disk, 64);
  const vm = await bootUntilReady(disk, 'echo synced > /synced; sync; echo ready; sleep 1000');
  expect(vm.pid).toBeGreaterThan(0);
  process.kill(-(vm.pid as number), 'SIGKILL'); // its process group: the hypervisor and any wrapper of it
  await vm.wait().catch(() => undefined);
  const next = await runVm({
    rootfs: { dir: rootfs },
    writableDisk: disk,
    argv: ['sh', '-c', 'cat /synced; echo more > /more; cat /more'],
  });
  expect(next.exitCode).toBe(0);
  expect(next.stdout).toBe('synced\nmore\n');
}, 180_000);

// Over 9p (the e2e run test covers virtio-fs): the file is written through a shared mapping, the
// guest's page cache, which 9p writes back only when the mapping goes, as the program ends.
test('with an ephemeral layer (run --rm), a file mapped and written in a 9p volume is whole on the host after the VM', async () => {
  const disk = join(work, 'ephemeral.ext4');
  const volume = join(work, 'volume');
  await createWritableDisk(disk, 64);
  await mkdir(volume);
  await copyFile(await buildMmapWriter(work), join(volume, 'mmap-writer'));
  const size = 3 * 1024 * 1024 + 5;
  vi.stubEnv('HYPR_SHARE', '9p');
  const vm = await bootGuestVm({
    rootfs: { dir: rootfs },
    writableDisk: disk,
    ephemeralLayer: true,
    mounts: [{ type: 'share', hostPath: volume, target: '/data' }],
    argv: ['sh', '-c', `echo layer > /in-layer && /data/mmap-writer /data/mapped ${size} && echo plain > /data/plain`],
  }).finally(() => vi.unstubAllEnvs());
  const r = await vm.wait();
  expect(r.exitCode).toBe(0);
  expect(await readFile(join(volume, 'plain'), 'utf8')).toBe('plain\n');
  expect((await readFile(join(volume, 'mapped'))).equals(mmapWriterContent(size))).toBe(true);
}, 180_000);
