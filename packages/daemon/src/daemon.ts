import { chmodSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectRouter } from '@connectrpc/connect';
import {
  ContainerService,
  ImageService,
  NetworkService,
  StackService,
  SystemService as SystemApi,
  VolumeService,
  parseHost,
} from '@hypr/api';
import { type HyprPaths, type HyprState, ImageStore, type Logger, openState, resolvePaths } from '@hypr/core';
import { loadDaemonConfig, unpackLimitsOf } from './config/index.js';
import { Orchestrator, selectRuntime } from './containers/index.js';
import { ImageBuilder, ImageManager, buildCacheUsage } from './images/index.js';
import { acquireDaemonLock } from './lock.js';
import { NetworkManager, networkingAllowed } from './networks/index.js';
import { createContainerService } from './rpc/containers.js';
import { createImageService } from './rpc/images.js';
import { createNetworkService } from './rpc/networks.js';
import { createStackService } from './rpc/stacks.js';
import { createSystemService } from './rpc/system.js';
import { createVolumeService } from './rpc/volumes.js';
import { withErrors } from './rpc/wrap.js';
import { listenOnSocket } from './server.js';
import { StackOrchestrator } from './stacks/index.js';
import { SystemService } from './system/index.js';
import { VolumeManager } from './volumes/index.js';

export interface DaemonOptions {
  /** HYPR_HOME: state, images, containers. */
  dataRoot?: string;
  /** `unix:///path` or a path; default HYPR_HOST, then /run/hypr/hyprd.sock (root). */
  host?: string;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
}

export interface RunningDaemon {
  socketPath: string;
  dataRoot: string;
  orchestrator: Orchestrator;
  /** Graceful stop: stop accepting, detach or stop VMs, flush state, remove socket and lock. */
  stop(): Promise<void>;
}

export function daemonVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return '0.0.0';
  }
}

/**
 * The data root holds every container's environment (passwords included): it is 0711 (others may
 * reach a socket placed in it, never list it) and everything directly in it is its owner's alone —
 * directories 0700, files 0600 — whatever the umask, also in an install an older HYPR made. What is
 * created later is private where it is created (state database, pid and lock files).
 */
function makeDataRootPrivate(paths: HyprPaths, socketPath: string): void {
  const data = paths.data;
  mkdirSync(data, { recursive: true, mode: 0o711 });
  chmodSync(data, 0o711);
  // Made now, so that none is born with the umask's mode when first used (a first stack, volume, build).
  for (const dir of [paths.images, paths.containers, paths.volumes, join(data, 'stacks'), join(data, 'build')])
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const e of readdirSync(data, { withFileTypes: true })) {
    const path = join(data, e.name);
    if (path === socketPath || !(e.isDirectory() || e.isFile())) continue;
    chmodSync(path, e.isDirectory() ? 0o700 : 0o600);
  }
}

/** Every part of hyprd, each built with its dependencies as typed constructor arguments. */
interface DaemonParts {
  images: ImageManager;
  builder: ImageBuilder;
  volumes: VolumeManager;
  networks: NetworkManager;
  orchestrator: Orchestrator;
  stacks: StackOrchestrator;
  system: SystemService;
}

/** Builds the parts in dependency order and reconciles the containers left by a previous hyprd. */
async function buildParts(state: HyprState, paths: HyprPaths, socketPath: string, log: Logger): Promise<DaemonParts> {
  const { config, file } = loadDaemonConfig([paths.config, '/etc/hypr/daemon.json']);
  log.info({ config: file }, 'config loaded');
  const store = await ImageStore.open(paths.images, state);
  const images = new ImageManager(store, config, paths.data, log);
  const runtime = selectRuntime(log);
  // mkdir's mode is masked by the umask and ignored for a directory that exists: set it.
  mkdirSync(paths.containers, { recursive: true, mode: 0o700 });
  chmodSync(paths.containers, 0o700);
  const volumes = new VolumeManager(state, paths.volumes, log);
  const networks = new NetworkManager(state, config, log, { enabled: networkingAllowed() });
  await networks.start();
  const orchestrator = new Orchestrator({
    state,
    images: store,
    runtime,
    config,
    containersDir: paths.containers,
    logger: log,
    network: networks,
    volumes,
    unpackLimits: unpackLimitsOf(config),
  });
  await orchestrator.reconcile();
  const stacks = new StackOrchestrator({
    state,
    containers: orchestrator,
    images,
    networks,
    volumes,
    stacksDir: join(paths.data, 'stacks'),
    logger: log,
  });
  const system = new SystemService({
    containers: orchestrator,
    images: store,
    volumes,
    buildCache: () => buildCacheUsage(store),
    defaults: { cpus: config['default-cpus'], memoryMiB: config['default-memory-mib'] },
    events: { emitter: orchestrator.events, recent: () => orchestrator.recentEvents() },
    dataRoot: paths.data,
    socket: socketPath,
    serverVersion: daemonVersion(),
    runtimeName: runtime.name,
  });
  const builder = new ImageBuilder(images, networks, join(paths.data, 'build'), log, config.builder);
  await builder.sweep();
  return { images, builder, volumes, networks, orchestrator, stacks, system };
}

/** The API: one Connect service per concern, each only translating to its part. */
function routes(p: DaemonParts): (router: ConnectRouter) => void {
  return (router) => {
    router.service(ContainerService, withErrors(createContainerService(p.orchestrator)));
    router.service(ImageService, withErrors(createImageService(p.images, p.builder, p.orchestrator)));
    router.service(SystemApi, withErrors(createSystemService(p.system)));
    router.service(NetworkService, withErrors(createNetworkService(p.networks, p.orchestrator)));
    router.service(VolumeService, withErrors(createVolumeService(p.volumes)));
    router.service(StackService, withErrors(createStackService(p.stacks)));
  };
}

export async function startDaemon(opts: DaemonOptions): Promise<RunningDaemon> {
  const env = { ...(opts.env ?? process.env) };
  if (opts.dataRoot) env.HYPR_HOME = opts.dataRoot;
  const paths = resolvePaths(env);
  const host = opts.host ?? env.HYPR_HOST;
  const socketPath = host ? parseHost(host) : paths.socket;
  const log = opts.logger;
  makeDataRootPrivate(paths, socketPath);
  const release = acquireDaemonLock(join(paths.data, 'hyprd.pid'), paths.data);
  let state: HyprState | undefined;
  try {
    state = openState(paths.db);
    log.info({ dataRoot: paths.data, db: paths.db, schema: state.version }, 'state opened');
    const parts = await buildParts(state, paths, socketPath, log);
    const server = await listenOnSocket(socketPath, routes(parts), log);
    log.info({ socket: socketPath, version: daemonVersion() }, 'hyprd listening');
    const openedState = state;
    let stopping: Promise<void> | undefined;
    return {
      socketPath,
      dataRoot: paths.data,
      orchestrator: parts.orchestrator,
      stop: () => {
        stopping ??= (async () => {
          log.info('hyprd stopping');
          const closed = server.close();
          await parts.orchestrator.shutdown();
          await parts.networks.close();
          await closed;
          openedState.close();
          release();
          log.info('hyprd stopped');
        })();
        return stopping;
      },
    };
  } catch (e) {
    state?.close();
    release();
    throw e;
  }
}
