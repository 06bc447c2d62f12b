import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HyprState, silentLogger } from '@hypr/core';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { insertContainerRow, openStateWithImage, testContainerConfig } from '../../test/helpers/container-rows.js';
import { ContainerEvents } from './events.js';
import type { HealthWatch } from './health-watch.js';
import { ContainerLifecycle } from './lifecycle.js';
import { reconcileContainers } from './reconcile.js';
import { RunningContainers } from './running.js';
import type { ContainerRuntime, VmExit, VmHandle } from './runtime/runtime.js';
import { ContainerStore } from './store.js';
import type { RootfsDisks } from './vm-config.js';

// The lifecycle with a real store and real directories. The runtime is a stand-in (named so) that
// records what it is asked: these tests are about what the lifecycle does around a VM, not the VM.
let dir: string;
let state: HyprState;
let store: ContainerStore;
let released: string[];
let running: RunningContainers;
let lifecycle: ContainerLifecycle;

const config = testContainerConfig('true');

const standInRuntime: ContainerRuntime = {
  name: 'stand-in',
  durable: true,
  start: () => Promise.reject(new Error('not used')),
  adopt: async () => undefined,
  readExit: () => undefined,
  release: async (d) => {
    released.push(d);
    return [];
  },
};

/** A container whose directory holds a log and a disk, as a VM leaves them. */
function addContainer(name: string, autoRemove = false): { id: string; dir: string } {
  const { id, dir } = insertContainerRow(store, {
    name,
    state: 'running',
    config: { ...config, create: { ...config.create, autoRemove } },
  });
  mkdirSync(join(dir, 'vm'), { recursive: true });
  writeFileSync(join(dir, 'container.log'), '{"log":"hi\\n"}\n');
  writeFileSync(join(dir, 'rw.ext4'), Buffer.alloc(64 * 1024));
  return { id, dir };
}

/** A VM handle whose exit the test decides, and how its shim ended. */
function vmThatExits(endedByItself: boolean | undefined) {
  let exit: (e: VmExit) => void = () => {};
  const exited = new Promise<VmExit>((r) => {
    exit = r;
  });
  const handle: VmHandle = {
    pid: 1234,
    stop: () => exited,
    kill: () => {},
    wait: () => exited,
    close: () => {},
    gone: async () => {},
    ...(endedByItself === undefined ? {} : { endedByItself: async () => endedByItself }),
  };
  return { handle, exit: (code: number) => exit({ exitCode: code, finishedAt: new Date().toISOString() }) };
}

const containerDirs = () => readdirSync(join(dir, 'containers'));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hypr-lifecycle-'));
  state = openStateWithImage(join(dir, 'state.db'));
  store = new ContainerStore(state, join(dir, 'containers'));
  released = [];
  running = new RunningContainers();
  const health = { watch: () => {}, stop: () => {}, stopAll: () => {} } as unknown as HealthWatch;
  lifecycle = new ContainerLifecycle({
    store,
    events: new ContainerEvents((id) => store.get(id)),
    running,
    health,
    runtime: standInRuntime,
    disks: {} as RootfsDisks,
    logger: silentLogger,
  });
});
afterEach(() => {
  state.close();
  rmSync(dir, { recursive: true, force: true });
});

test('rm: the container and its directory are gone when it returns; nothing of it is left once the daemon stops', async () => {
  const { id } = addContainer('web');
  store.update(id, { state: 'exited' });
  await lifecycle.remove('web');
  expect(store.get(id)).toBeUndefined();
  expect(containerDirs()).not.toContain(id.slice(0, 12));
  await lifecycle.shutdown(0);
  expect(containerDirs()).toEqual([]);
});

test('--rm: an exit removes the container; a shim that ended by itself is not looked for again', async () => {
  const { id } = addContainer('once', true);
  const vm = vmThatExits(true);
  lifecycle.watch(id, vm.handle);
  const processed = running.get(id)?.processed;
  vm.exit(0);
  await processed;
  expect(store.get(id)).toBeUndefined();
  expect(released).toEqual([]);
  await lifecycle.shutdown(0);
  expect(containerDirs()).toEqual([]);
});

test('an exit whose shim was killed, or whose end is not known, looks for what is left of the VM', async () => {
  for (const [name, ended] of [
    ['killed', false],
    ['unknown', undefined],
  ] as const) {
    const { id, dir: cdir } = addContainer(name);
    const vm = vmThatExits(ended);
    lifecycle.watch(id, vm.handle);
    const processed = running.get(id)?.processed;
    vm.exit(137);
    await processed;
    expect(store.get(id)).toMatchObject({ state: 'exited', exitCode: 137 });
    expect(released).toContain(cdir);
  }
});

test("what a removal left when hyprd died (a renamed directory) is deleted at hyprd's next start", async () => {
  const left = join(dir, 'containers', '.removed-0123456789ab-x1y2z3');
  mkdirSync(join(left, 'vm'), { recursive: true });
  writeFileSync(join(left, 'rw.ext4'), Buffer.alloc(4096));
  await reconcileContainers({
    store,
    runtime: standInRuntime,
    lifecycle,
    logger: silentLogger,
    containersDir: join(dir, 'containers'),
  });
  expect(containerDirs()).toEqual([]);
});
