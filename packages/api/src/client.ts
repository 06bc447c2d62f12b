import { connect } from 'node:net';
import type { Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { createLazyClient } from './client-lazy.js';
import { type HyprClientOptions, resolveSocketPath } from './client-socket.js';
import type { ContainerService } from './gen/hypr/v1/containers_pb.js';
import type { ImageService } from './gen/hypr/v1/images_pb.js';
import type { NetworkService } from './gen/hypr/v1/networks_pb.js';
import type { StackService } from './gen/hypr/v1/stacks_pb.js';
import type { SystemService } from './gen/hypr/v1/system_pb.js';
import type { VolumeService } from './gen/hypr/v1/volumes_pb.js';

export * from './client-socket.js';

/** The services of hyprd, over one connection. */
export interface HyprClient {
  readonly socketPath: string;
  readonly containers: Client<typeof ContainerService>;
  readonly images: Client<typeof ImageService>;
  readonly networks: Client<typeof NetworkService>;
  readonly system: Client<typeof SystemService>;
  readonly stacks: Client<typeof StackService>;
  readonly volumes: Client<typeof VolumeService>;
}

/** A client for hyprd on its Unix socket (gRPC over HTTP/2); each service's descriptor loads at its first call. */
export function createHyprClient(opts: HyprClientOptions = {}): HyprClient {
  const socketPath = resolveSocketPath(opts);
  const transport = createGrpcTransport({
    baseUrl: 'http://hyprd',
    nodeOptions: { createConnection: () => connect(socketPath) },
  });
  return {
    socketPath,
    containers: createLazyClient(
      async () => (await import('./gen/hypr/v1/containers_pb.js')).ContainerService,
      transport,
    ),
    images: createLazyClient(async () => (await import('./gen/hypr/v1/images_pb.js')).ImageService, transport),
    networks: createLazyClient(async () => (await import('./gen/hypr/v1/networks_pb.js')).NetworkService, transport),
    system: createLazyClient(async () => (await import('./gen/hypr/v1/system_pb.js')).SystemService, transport),
    stacks: createLazyClient(async () => (await import('./gen/hypr/v1/stacks_pb.js')).StackService, transport),
    volumes: createLazyClient(async () => (await import('./gen/hypr/v1/volumes_pb.js')).VolumeService, transport),
  };
}

/**
 * What a failed call says about the connection to hyprd, decided from the transport error itself
 * (the Node error of the socket `connect`, or a reset of an open connection), never from message text:
 * - `not-running`: nothing listens on the socket (ENOENT, ECONNREFUSED);
 * - `permission-denied`: the socket or its directory is closed to this user (EACCES, EPERM);
 * - `connection-lost`: hyprd went away during the call (ECONNRESET, EPIPE);
 * - undefined: hyprd answered, or the failure is not about the connection.
 */
export type DaemonConnectionProblem = 'not-running' | 'permission-denied' | 'connection-lost';

export function daemonConnectionProblem(e: unknown): DaemonConnectionProblem | undefined {
  // Connect wraps the Node error as `cause`; walk a few links, never the message text.
  let x: unknown = e;
  for (let depth = 0; depth < 5 && x instanceof Error; depth++) {
    const n = x as NodeJS.ErrnoException;
    if (n.syscall === 'connect') {
      if (n.code === 'ENOENT' || n.code === 'ECONNREFUSED' || n.code === 'ENOTSOCK') return 'not-running';
      if (n.code === 'EACCES' || n.code === 'EPERM') return 'permission-denied';
    }
    if (n.code === 'ECONNRESET' || n.code === 'EPIPE' || n.code === 'ERR_HTTP2_STREAM_CANCEL') return 'connection-lost';
    x = n.cause;
  }
  return undefined;
}
