import type { ImageRecord } from '@hypr/core';
import { expect, test } from 'vitest';
import { imageHistory } from './history.js';

test('history is newest first; empty layers have no size; only the newest row has the id', () => {
  const image = {
    configDigest: 'sha256:abc',
    layers: [
      { digest: 'sha256:1', size: 100, mediaType: 'x' },
      { digest: 'sha256:2', size: 20, mediaType: 'x' },
    ],
    config: {
      history: [
        { created: '2024-01-01T00:00:00Z', created_by: 'ADD rootfs /' },
        { created: '2024-01-02T00:00:00Z', created_by: 'ENV A=1', empty_layer: true },
        { created: '2024-01-03T00:00:00Z', created_by: 'sh -c echo', comment: 'msg' },
      ],
    },
  } as unknown as ImageRecord;
  expect(imageHistory(image)).toEqual([
    {
      id: 'sha256:abc',
      createdAtMs: Date.parse('2024-01-03T00:00:00Z'),
      createdBy: 'sh -c echo',
      sizeBytes: 20,
      comment: 'msg',
      emptyLayer: false,
    },
    {
      id: '<missing>',
      createdAtMs: Date.parse('2024-01-02T00:00:00Z'),
      createdBy: 'ENV A=1',
      sizeBytes: 0,
      comment: '',
      emptyLayer: true,
    },
    {
      id: '<missing>',
      createdAtMs: Date.parse('2024-01-01T00:00:00Z'),
      createdBy: 'ADD rootfs /',
      sizeBytes: 100,
      comment: '',
      emptyLayer: false,
    },
  ]);
});
