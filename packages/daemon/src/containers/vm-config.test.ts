import { describe, expect, test } from 'vitest';
import type { StoredContainerConfig } from './types.js';
import { vmConfigOf } from './vm-config.js';

const config = (create: StoredContainerConfig['create']) =>
  ({
    create,
    argv: ['true'],
    env: [],
    hostname: 'c1',
    stopTimeoutSeconds: 10,
    cpus: 1,
    memoryMiB: 256,
  }) as unknown as StoredContainerConfig;

describe('vmConfigOf', () => {
  test('a --rm container gets an ephemeral writable layer; any other keeps it flushed', () => {
    const rootfs = { disk: '/i/root.ext4', type: 'ext4' as const };
    const rm = vmConfigOf(
      config({ image: 'x', autoRemove: true } as StoredContainerConfig['create']),
      '/c',
      rootfs,
      [],
    );
    expect(rm).toMatchObject({ writableDisk: { path: '/c/rw.ext4' }, ephemeralLayer: true });
    const kept = vmConfigOf(config({ image: 'x' } as StoredContainerConfig['create']), '/c', rootfs, []);
    expect(kept.writableDisk?.path).toBe('/c/rw.ext4');
    expect(kept).not.toHaveProperty('ephemeralLayer');
  });
});
