import type { images } from '../../src/state/index.js';

/** An image row with nothing behind it, for tests that need a container row (leases point at containers). */
export const TEST_IMAGE_ROW: typeof images.$inferInsert = {
  digest: 'sha256:t',
  mediaType: 'm',
  configDigest: 'c',
  config: '{}',
  layers: '[]',
  os: 'linux',
  architecture: 'amd64',
  sizeBytes: 0,
  createdAt: 0,
};
