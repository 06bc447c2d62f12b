/**
 * The container's writable layer disk across the two ways a VM ends: a stop, after which what the
 * program wrote is in the disk file, and a kill -9 of the hypervisor, after which the disk still
 * mounts (ext4's journal repairs it) with what the program had synced.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type GuestVm, bootGuestVm, runVm } from '../src/vmm/guest-vm.js';
import { createWritableDisk } from '../src/vmm/writable-disk.js';
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
