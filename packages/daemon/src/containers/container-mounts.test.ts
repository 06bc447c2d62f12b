import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HyprState, openState, silentLogger } from '@hypr/core';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { VolumeManager } from '../volumes/index.js';
import { resolveMounts } from './container-mounts.js';

let dir: string;
let state: HyprState;
let volumes: VolumeManager;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hypr-mounts-'));
  state = openState(join(dir, 'state.db'));
  volumes = new VolumeManager(state, join(dir, 'volumes'), silentLogger);
});
afterEach(() => {
  state.close();
  rmSync(dir, { recursive: true, force: true });
});

const ctx = (imageVolumes: string[] = [], others: Record<string, ReturnType<typeof resolveMounts>['mounts']> = {}) => ({
  volumes,
  imageVolumes,
  mountsOf: (c: string) => others[c] ?? [],
});

test('image VOLUMEs become anonymous volumes unless a flag covers them; parents mount first', () => {
  const src = join(dir, 'src');
  const r = resolveMounts({ volumes: [`${src}:/data`, 'named:/srv/a/b'], tmpfs: ['/run'] }, ctx(['/data', '/cache/']));
  expect(existsSync(src)).toBe(true); // -v creates a missing bind source, as docker does
  expect(r.mounts.map((m) => [m.type, m.target])).toEqual([
    ['volume', '/cache'],
    ['bind', '/data'],
    ['tmpfs', '/run'],
    ['volume', '/srv/a/b'],
  ]);
  expect(r.created).toHaveLength(2);
  expect(volumes.exists('named')).toBe(true);
});

test('--volumes-from takes the other mounts (not tmpfs) with its :ro', () => {
  const theirs = resolveMounts({ volumes: ['shared:/shared'], tmpfs: ['/tmp'] }, ctx()).mounts;
  const r = resolveMounts({ volumesFrom: ['other:ro'] }, ctx([], { other: theirs }));
  expect(r.mounts).toEqual([
    expect.objectContaining({ type: 'volume', name: 'shared', target: '/shared', readOnly: true }),
  ]);
});

test('a duplicate target, or a --mount bind source that is missing, fails and leaves no volume behind', () => {
  expect(() => resolveMounts({ volumes: ['va:/x', 'vb:/x'] }, ctx())).toThrow(/Duplicate mount point: \/x/);
  const missing = join(dir, 'nope');
  expect(() =>
    resolveMounts({ volumes: ['made:/m'], mounts: [`type=bind,source=${missing},target=/b`] }, ctx(['/img'])),
  ).toThrow(/bind source path does not exist/);
  expect(volumes.exists('made')).toBe(false);
  expect(volumes.list().length).toBe(0);
});
