import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HyprState } from '@hypr/core';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { insertContainerRow, openStateWithImage, testContainerConfig } from '../../test/helpers/container-rows.js';
import { DEFAULT_CONFIG } from '../config/index.js';
import { ContainerEvents } from './events.js';
import { ContainerStore, storedConfig } from './store.js';
import type { ContainerEvent, StoredContainerConfig } from './types.js';
import { type UpdateDeps, renameContainer, updateContainer } from './update.js';

let dir: string;
let state: HyprState;
let deps: UpdateDeps;
let live: Set<string>;
let events: ContainerEvent[];

const config = testContainerConfig('sh');

function add(
  store: ContainerStore,
  name: string,
  state = 'created',
  create: Partial<StoredContainerConfig['create']> = {},
) {
  return insertContainerRow(store, { name, state, config: { ...config, create: { ...config.create, ...create } } }).id;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hypr-update-'));
  state = openStateWithImage(join(dir, 'state.db'));
  const store = new ContainerStore(state, join(dir, 'containers'));
  const ring = new ContainerEvents((id) => store.get(id));
  events = [];
  ring.emitter.on('event', (e: ContainerEvent) => events.push(e));
  live = new Set();
  deps = { store, events: ring, defaults: DEFAULT_CONFIG, isLive: (id) => live.has(id) };
});
afterEach(() => {
  state.close();
  rmSync(dir, { recursive: true, force: true });
});

test('rename: a new free name, an event naming the old one; taken, same or bad names are refused', () => {
  const id = add(deps.store, 'web');
  add(deps.store, 'db');
  expect(renameContainer(deps, 'web', '/api').row.name).toBe('api');
  expect(deps.store.resolve('api').id).toBe(id);
  expect(events.at(-1)).toMatchObject({ action: 'rename', attributes: { name: 'api', oldName: '/web' } });
  expect(() => renameContainer(deps, 'api', 'db')).toThrow(expect.objectContaining({ code: 'CONTAINER_NAME_IN_USE' }));
  expect(() => renameContainer(deps, 'api', 'api')).toThrow(/same name as its current name/);
  expect(() => renameContainer(deps, 'api', 'no way')).toThrow(expect.objectContaining({ code: 'INVALID_NAME' }));
});

test('update: the restart policy any time; memory and CPUs of a stopped container only', () => {
  const id = add(deps.store, 'web', 'running');
  live.add(id);
  const v = updateContainer(deps, 'web', { restartPolicy: { name: 'on-failure', maximumRetryCount: 3 } });
  expect(v.config.create.restartPolicy).toEqual({ name: 'on-failure', maximumRetryCount: 3 });
  expect(events.at(-1)?.action).toBe('update');
  expect(() => updateContainer(deps, 'web', { memoryBytes: 512 * 1024 * 1024 })).toThrow(
    expect.objectContaining({ code: 'CONTAINER_IS_RUNNING', message: expect.stringContaining('while it runs') }),
  );
  live.delete(id);
  deps.store.update(id, { state: 'exited' });
  const stopped = updateContainer(deps, 'web', { memoryBytes: 512 * 1024 * 1024, cpus: 1.5 });
  expect(stopped.config).toMatchObject({ memoryMiB: 512, cpus: 2 });
  expect(storedConfig(deps.store.resolve('web')).create).toMatchObject({ memoryBytes: 512 * 1024 * 1024, cpus: 1.5 });
  expect(() => updateContainer(deps, 'web', { cpus: 0 })).toThrow(/invalid number of CPUs: 0/);
});

test('update --restart is refused for a --rm container, as docker does', () => {
  add(deps.store, 'tmp', 'created', { autoRemove: true });
  expect(() => updateContainer(deps, 'tmp', { restartPolicy: { name: 'always' } })).toThrow(/AutoRemove is enabled/);
});
