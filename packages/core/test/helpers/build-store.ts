// Test helper for builds: a temp image store + state, and test images loaded straight into it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore } from '../../src/image/image-store.js';
import { parseImageRef } from '../../src/registry/reference.js';
import { type HyprState, openState } from '../../src/state/index.js';
import type { TestImage } from './busybox-image.js';

export interface TestStore {
  dir: string;
  state: HyprState;
  store: ImageStore;
  close(): Promise<void>;
}

export async function openTestStore(): Promise<TestStore> {
  const dir = await mkdtemp(join(tmpdir(), 'hypr-build-store-'));
  const state = openState(join(dir, 'state.db'));
  const store = await ImageStore.open(join(dir, 'images'), state);
  return {
    dir,
    state,
    store,
    close: async () => {
      state.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Puts a test image's blobs in the store and records it under `name`. */
export async function loadTestImage(store: ImageStore, image: TestImage, name: string): Promise<void> {
  for (const [digest, data] of image.blobs) await store.blobs.writeBlob(data, { digest });
  await store.blobs.writeBlob(image.manifest, { digest: image.manifestDigest });
  const manifest = JSON.parse(image.manifest.toString()) as {
    layers: { mediaType: string; digest: string; size: number }[];
  };
  store.addImage(
    {
      digest: image.manifestDigest,
      mediaType: image.manifestMediaType,
      configDigest: image.configDigest,
      config: image.config,
      layers: manifest.layers,
    },
    [parseImageRef(name)],
  );
}
