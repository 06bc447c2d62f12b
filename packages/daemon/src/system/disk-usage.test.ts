import type { ImageRecord } from '@hypr/core';
import { expect, test } from 'vitest';
import type { ContainerView } from '../containers/index.js';
import { imageUsage } from './disk-usage.js';

const layer = (digest: string, size: number) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size });
const image = (digest: string, layers: ReturnType<typeof layer>[]): ImageRecord =>
  ({
    digest,
    configDigest: `sha256:config-${digest}`,
    config: { created: '2024-05-01T12:00:00Z' },
    layers,
    sizeBytes: layers.reduce((n, l) => n + l.size, 0),
    createdAt: 1,
    tags: [`img-${digest}:latest`],
  }) as unknown as ImageRecord;

test('system df: a layer two images have is shared; containers are counted per image', () => {
  const base = layer('sha256:base', 1000);
  const a = image('a', [base, layer('sha256:a1', 10)]);
  const b = image('b', [base, layer('sha256:b1', 20)]);
  const c = image('c', [layer('sha256:c1', 5)]);
  const containers = [{ row: { imageDigest: 'a' } }, { row: { imageDigest: 'a' } }] as unknown as ContainerView[];
  const u = imageUsage([a, b, c], containers);
  expect(u.map((i) => [i.repoTags[0], i.sizeBytes, i.sharedSizeBytes, i.uniqueSizeBytes, i.containers])).toEqual([
    ['img-a:latest', 1010, 1000, 10, 2],
    ['img-b:latest', 1020, 1000, 20, 0],
    ['img-c:latest', 5, 0, 5, 0],
  ]);
  expect(u[0].createdAt).toBe(Date.UTC(2024, 4, 1, 12));
});
