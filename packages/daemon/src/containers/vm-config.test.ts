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
  test('a --rm container gets no writable disk (a tmpfs in the guest); any other gets rw.ext4', () => {
    const rootfs = { disk: '/i/root.ext4', type: 'ext4' as const };
    const rm = vmConfigOf(
      config({ image: 'x', autoRemove: true } as StoredContainerConfig['create']),
      '/c',
      rootfs,
      [],
    );
    expect(rm).not.toHaveProperty('writableDisk');
    expect(rm).not.toHaveProperty('ephemeralLayer');
    const kept = vmConfigOf(config({ image: 'x' } as StoredContainerConfig['create']), '/c', rootfs, []);
    expect(kept.writableDisk?.path).toBe('/c/rw.ext4');
    expect(kept).not.toHaveProperty('ephemeralLayer');
  });
});
