import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runVm } from '../src/vmm/guest-vm.js';
import { findVirtiofsd } from '../src/vmm/virtiofsd.js';
import { createWritableDisk } from '../src/vmm/writable-disk.js';
import { assertVmPrerequisites, makeBusyboxRootfs } from './helpers/vm.js';

let rootfs: string;
let work: string;

beforeAll(async () => {
  assertVmPrerequisites();
  rootfs = await makeBusyboxRootfs();
  work = await mkdtemp(join(tmpdir(), 'hypr-storage-'));
});
afterAll(async () => {
  await rm(rootfs, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

const sh = (script: string) => ['sh', '-c', script];

describe('storage inside the microVM', () => {
  test('a writable layer disk keeps the container’s files across runs (stop/start)', async () => {
    const disk = join(work, 'rw.ext4');
    await createWritableDisk(disk, 64);
    const first = await runVm({
      rootfs: { dir: rootfs },
      writableDisk: disk,
      argv: sh('echo kept > /data.txt; rm /bin/ls'),
    });
    expect(first.exitCode).toBe(0);
    const second = await runVm({
      rootfs: { dir: rootfs },
      writableDisk: disk,
      argv: sh('cat /data.txt; [ -e /bin/ls ] || echo "no ls"'),
    });
    expect(second.stdout).toBe('kept\nno ls\n');
    // The image itself is untouched.
    expect(execFileSync('ls', [join(rootfs, 'bin')]).toString()).toContain('ls');
  });

  test('with a disk rootfs the writable disk comes second and both work', async () => {
    const img = join(work, 'root.ext4');
    execFileSync('mkfs.ext4', ['-q', '-F', '-d', rootfs, img, '16M']);
    const disk = join(work, 'rw2.ext4');
    await createWritableDisk(disk, 64);
    await runVm({ rootfs: { disk: img }, writableDisk: disk, argv: sh('echo two > /f') });
    const r = await runVm({ rootfs: { disk: img }, writableDisk: disk, argv: sh('cat /f') });
    expect(r.stdout).toBe('two\n');
  });

  test('a shared host directory is read and written, a read-only one refuses writes', async () => {
    const rw = join(work, 'vol');
    const ro = join(work, 'src');
    execFileSync('mkdir', ['-p', rw, ro]);
    await writeFile(join(ro, 'input.txt'), 'from host\n');
    const r = await runVm({
      rootfs: { dir: rootfs },
      mounts: [
        { type: 'share', hostPath: rw, target: '/data' },
        { type: 'share', hostPath: ro, target: '/src', readOnly: true },
        { type: 'tmpfs', target: '/scratch' },
      ],
      argv: sh(
        'cat /src/input.txt; echo written > /data/out.txt; echo x > /src/nope 2>/dev/null || echo "ro refused"; mount | grep -c " /scratch type tmpfs"',
      ),
    });
    expect(r.stdout).toBe('from host\nro refused\n1\n');
    expect(await readFile(join(rw, 'out.txt'), 'utf8')).toBe('written\n');
  });

  test('directories are shared over virtio-fs when virtiofsd is there, over 9p with HYPR_SHARE=9p', async () => {
    const dir = join(work, 'fsdir');
    execFileSync('mkdir', ['-p', dir]);
    const probe = () =>
      runVm({
        rootfs: { dir: rootfs },
        mounts: [{ type: 'share', hostPath: dir, target: '/v' }],
        argv: sh('echo hi > /v/x && mount | grep " /v " | cut -d" " -f5'),
      });
    const expected = findVirtiofsd() ? 'virtiofs' : '9p';
    expect((await probe()).stdout).toBe(`${expected}\n`);
    process.env.HYPR_SHARE = '9p';
    try {
      expect((await probe()).stdout).toBe('9p\n');
    } finally {
      Reflect.deleteProperty(process.env, 'HYPR_SHARE');
    }
    expect(await readFile(join(dir, 'x'), 'utf8')).toBe('hi\n');
  });
});
