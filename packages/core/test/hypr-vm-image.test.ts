import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runCommand } from '../src/process.js';
import { pushBusyboxImage } from './helpers/busybox-image.js';
import { type TestRegistry, startRegistry } from './helpers/registry.js';
import { assertVmPrerequisites } from './helpers/vm.js';

// Boots real microVMs (TCG here): without QEMU, the kernel or kestrel these tests fail, never skip.

let registry: TestRegistry;
let home: string;
let ref: string;
beforeAll(async () => {
  assertVmPrerequisites();
  registry = await startRegistry();
  home = await mkdtemp(join(tmpdir(), 'hypr-home-'));
  ({ ref } = await pushBusyboxImage(registry, 'busybox:latest', {
    config: {
      Cmd: ['sh', '-c', 'echo $GREETING from $(pwd) as $(id -u)'],
      Env: ['PATH=/bin', 'GREETING=hello'],
      WorkingDir: '/tmp',
      User: '65534',
    },
  }));
});
afterAll(async () => {
  await registry?.stop();
  await rm(home, { recursive: true, force: true });
});

const hyprVm = (args: string[]) =>
  runCommand(resolve('node_modules/.bin/tsx'), [resolve('packages/core/test/helpers/hypr-vm-main.ts'), ...args], {
    env: { PATH: process.env.PATH, HOME: home, HYPR_HOME: home, HYPR_QUIET: '1' },
  });

test('hypr-vm --image pulls the image and runs a command in it', async () => {
  const { stdout } = await hyprVm(['--image', ref, '--', 'cat', '/etc/group']);
  expect(stdout).toContain('root:x:0:');
  expect((await readdir(join(home, 'images', 'rootfs'))).filter((n) => n.endsWith('.ext4'))).toHaveLength(1);
});

test("with no command, the image's Cmd runs with its Env, WorkingDir and User", async () => {
  const { stdout } = await hyprVm(['--image', ref]);
  expect(stdout.trim()).toBe('hello from /tmp as 65534');
});
