import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { pushBusyboxImage } from '../../packages/core/test/helpers/busybox-image.js';
import { type Daemon, type E2eEnv, HYPR, hyprOk, startDaemon, startE2eEnv, waitFor } from './helpers.js';

// VMs boot under TCG on a shared machine: allow for a slow, loaded host.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

// An image's read-only disk is made when the image is stored (pull, load), off hyprd's event loop
// (a pull's layer disks in its pull process, as each layer arrives; a flattened disk, or a load's,
// in a worker thread), so the first `run` finds it ready and other API calls answer meanwhile.
let env: E2eEnv & { refs: string[] };
let d: Daemon;
let flat: Daemon | undefined;
let gate: string;
beforeAll(async () => {
  env = await startE2eEnv([
    { name: 'busybox:latest' },
    { name: 'held:1', opts: { extraLayers: [[{ path: 'etc/held', type: 'file', data: 'held\n' }]] } },
  ]);
  // mkfs.ext4 as hyprd finds it on PATH (a flattened disk's maker; layer disks need none): the real
  // one, held while the file `gate` exists, so the test knows a pull is still making its disk when
  // it asks for `ps` (no race with a fast machine).
  const bin = join(env.dir, 'bin');
  gate = join(env.dir, 'gate');
  mkdirSync(bin, { recursive: true });
  const real = process.env.PATH?.split(':')
    .map((p) => join(p, 'mkfs.ext4'))
    .find((p) => existsSync(p));
  writeFileSync(
    join(bin, 'mkfs.ext4'),
    `#!/bin/sh\ncase "$*" in *hypr-rootfs*) touch "${gate}.seen"; while [ -e "${gate}" ]; do sleep 0.1; done;; esac\nexec ${real ?? '/sbin/mkfs.ext4'} "$@"\n`,
  );
  chmodSync(join(bin, 'mkfs.ext4'), 0o755);
  process.env.PATH = `${bin}:${process.env.PATH}`;
  d = await startDaemon({ dir: env.dir });
});
afterAll(async () => {
  if (gate) rmSync(gate, { force: true });
  await d?.shutdown();
  await flat?.shutdown();
  await env?.cleanup();
});

const disks = () => readdirSync(join(d.home, 'images', 'rootfs')).filter((f) => f.endsWith('.ext4'));
const disksMade = () =>
  d
    .log()
    .split('\n')
    .filter((l) => l.includes('rootfs disk made') || l.includes('layer disk made')).length;

test('pull makes the image disk, so the first run unpacks nothing', async () => {
  expect(disks()).toEqual([]);
  await hyprOk(d, ['pull', '-q', env.image]);
  expect(disks()).toHaveLength(1);
  expect(disksMade()).toBe(1);
  expect(d.log()).toMatch(/"streamed":true.*"layer disk made"/); // in the pull process, from the download
  expect(await hyprOk(d, ['run', '--rm', env.image, 'echo', 'first'])).toBe('first\n');
  expect(disksMade()).toBe(1);
});

test('load makes the disk of each image it stores', async () => {
  const file = join(env.dir, 'bb.tar');
  await hyprOk(d, ['save', '-o', file, env.image]);
  await hyprOk(d, ['rmi', '-f', env.image]);
  await hyprOk(d, ['image', 'prune', '-f']); // the disk of a removed image goes with it
  expect(disks()).toEqual([]);
  await hyprOk(d, ['load', '-i', file]);
  expect(disks()).toHaveLength(1);
  expect(await hyprOk(d, ['run', '--rm', env.image, 'echo', 'loaded'])).toBe('loaded\n');
});

test('ps answers while a pull is still making its disk in hyprd (layer disks off: one flattened disk)', async () => {
  flat = await startDaemon({ dir: join(env.dir, 'flat'), env: { HYPR_LAYER_DISKS: '0' } });
  const d = flat;
  writeFileSync(gate, '');
  let pull: ChildProcess | undefined;
  try {
    pull = spawn(process.execPath, [HYPR, 'pull', '-q', env.refs[1]], {
      env: { ...process.env, HYPR_HOST: d.host },
      stdio: 'ignore',
    });
    const pulled = new Promise<number | null>((r) => pull?.once('exit', (code) => r(code)));
    let ended = false;
    pulled.then(() => {
      ended = true;
    });
    await waitFor(async () => existsSync(`${gate}.seen`), 120_000, 'the pull to reach mkfs');
    expect(await hyprOk(d, ['ps', '-a'])).toMatch(/^CONTAINER ID/);
    expect(ended).toBe(false);
    rmSync(gate);
    expect(await pulled).toBe(0);
    expect(await hyprOk(d, ['run', '--rm', env.refs[1], 'cat', '/etc/held'])).toBe('held\n');
  } finally {
    rmSync(gate, { force: true });
    pull?.kill();
  }
});
