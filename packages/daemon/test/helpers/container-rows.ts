// Container rows in a real state database, for the daemon's unit tests: one image every row can
// name, and a row inserted as `create` would leave it (its directory allocated, not made).
import { type HyprState, images, openState } from '@hypr/core';
import type { ContainerStore } from '../../src/containers/store.js';
import type { StoredContainerConfig } from '../../src/containers/types.js';

/** The image the rows name (`sha256:m`, config `sha256:c`). */
export const TEST_IMAGE_DIGEST = 'sha256:m';

/** A state database at PATH holding the test image. */
export function openStateWithImage(path: string): HyprState {
  const state = openState(path);
  state.db
    .insert(images)
    .values({
      digest: TEST_IMAGE_DIGEST,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      configDigest: 'sha256:c',
      config: '{}',
      layers: '[]',
      os: 'linux',
      architecture: 'amd64',
      sizeBytes: 0,
      createdAt: Date.now(),
    })
    .run();
  return state;
}

/** Inserts a container named NAME (docker's generated name when undefined) of the test image. */
export function insertContainerRow(
  store: ContainerStore,
  o: { name?: string; state: string; config: StoredContainerConfig },
): { id: string; dir: string } {
  const { id, dir } = store.allocate();
  store.insertNamed(o.name, (n) => ({
    id,
    name: n,
    imageDigest: TEST_IMAGE_DIGEST,
    imageRef: 'busybox',
    config: JSON.stringify(o.config),
    state: o.state,
    dir,
    labels: '{}',
    createdAt: Date.now(),
  }));
  return { id, dir };
}

/** The stored config of a busybox container that runs PROGRAM (no arguments), 1 vCPU, 256 MiB. */
export function testContainerConfig(program: string): StoredContainerConfig {
  return {
    create: { image: 'busybox', restartPolicy: { name: 'no' } },
    argv: [program],
    path: program,
    args: [],
    env: [],
    hostname: 'h',
    stopSignal: 'SIGTERM',
    stopTimeoutSeconds: 10,
    cpus: 1,
    memoryMiB: 256,
    imageId: 'sha256:c',
    entrypoint: null,
    cmd: [program],
    exposedPorts: {},
  };
}
