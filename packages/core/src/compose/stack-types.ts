/**
 * The stack HYPR runs, as convertToStack returns it: one entry per service (its image or build, argv,
 * environment, ports, mounts, networks, resources, health check, restart policy), the networks and
 * volumes, and the start order. The daemon consumes this shape (see contracts.md): change it only
 * with the daemon's owner.
 */
import { HyprError } from '../errors.js';
import type { ComposeDependencyCondition } from './types.js';

export interface StackBuild {
  context: string;
  dockerfile?: string;
  dockerfileInline?: string;
  args: Record<string, string>;
  target?: string;
  labels: Record<string, string>;
  cacheFrom: string[];
  noCache: boolean;
  /** Tag of the built image: `image:` when set, else `<project>-<service>`. */
  tag: string;
}

export interface StackPort {
  hostIp?: string;
  /** First host port; undefined lets HYPR pick one. */
  hostPort?: number;
  /** Last host port when a range was given (HYPR picks a free one in it). */
  hostPortEnd?: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

export type StackMount =
  | { type: 'bind'; source: string; target: string; readOnly: boolean; createHostPath: boolean }
  | { type: 'volume'; source?: string; target: string; readOnly: boolean; subpath?: string; noCopy: boolean }
  | { type: 'tmpfs'; target: string; sizeBytes?: number; mode?: number };

/** A secret or config placed as a file in the guest. */
export interface StackFile {
  kind: 'secret' | 'config';
  name: string;
  target: string;
  /** Host file to copy, or the content itself (from `environment:` or `content:`). */
  sourceFile?: string;
  content?: string;
  uid?: string;
  gid?: string;
  mode: number;
}

export interface StackNetworkAttachment {
  /** The key under `networks:` in the compose file. */
  network: string;
  /** The network's actual name (`<project>_<key>` unless named). */
  name: string;
  aliases: string[];
  ipv4Address?: string;
  ipv6Address?: string;
  macAddress?: string;
}

export interface StackHealthcheck {
  /** `["CMD", …]` or `["CMD-SHELL", "…"]`. */
  test: string[];
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
  startIntervalMs: number;
}

export interface StackRestartPolicy {
  policy: 'no' | 'always' | 'on-failure' | 'unless-stopped';
  maxRetries?: number;
}

export interface StackDependency {
  service: string;
  condition: ComposeDependencyCondition;
  required: boolean;
  restart: boolean;
}

export interface StackResources {
  cpus?: number;
  memoryMiB?: number;
  reservedCpus?: number;
  reservedMemoryMiB?: number;
  pids?: number;
}

export interface StackService {
  name: string;
  /** Image to run; after `build`, the image built. */
  image: string;
  build?: StackBuild;
  pullPolicy: string;
  /** Overrides of the image's ENTRYPOINT and CMD; undefined keeps the image's. */
  entrypoint?: string[];
  command?: string[];
  env: Record<string, string>;
  workingDir?: string;
  user?: string;
  hostname: string;
  domainname?: string;
  ports: StackPort[];
  expose: string[];
  mounts: StackMount[];
  files: StackFile[];
  /** Empty with network_mode: none. */
  networks: StackNetworkAttachment[];
  extraHosts: Record<string, string[]>;
  dns: string[];
  dnsSearch: string[];
  resources: StackResources;
  /** undefined: the image's HEALTHCHECK applies; null: disabled. */
  healthcheck?: StackHealthcheck | null;
  restart: StackRestartPolicy;
  dependsOn: StackDependency[];
  replicas: number;
  stopSignal: string;
  stopGracePeriodMs: number;
  init: boolean;
  readOnlyRootfs: boolean;
  tty: boolean;
  stdinOpen: boolean;
  privileged: boolean;
  labels: Record<string, string>;
  sysctls: Record<string, string>;
  ulimits: Record<string, { soft: number; hard: number }>;
  containerName?: string;
  platform?: string;
}

export interface StackNetwork {
  key: string;
  name: string;
  external: boolean;
  internal: boolean;
  driver: string;
  subnets: string[];
}

export interface StackVolume {
  key: string;
  name: string;
  external: boolean;
  driver: string;
  labels: Record<string, string>;
}

/** Something HYPR will not do as written: a warning (dropped or emulated) or an error (refused). */
export interface StackNotice {
  service?: string;
  path: string;
  message: string;
}

export interface StackSpec {
  name: string;
  services: Record<string, StackService>;
  /** Services in groups: every service's dependencies are in earlier groups; one group may start in parallel. */
  startOrder: string[][];
  networks: Record<string, StackNetwork>;
  volumes: Record<string, StackVolume>;
  warnings: StackNotice[];
}

/** Thrown by convertToStack when the project needs something a microVM cannot give. */
export class ComposeUnsupportedError extends HyprError {
  constructor(readonly problems: StackNotice[]) {
    super(
      'COMPOSE_UNSUPPORTED',
      problems.length === 1
        ? `${problems[0].path}: ${problems[0].message}`
        : `${problems.length} compose settings cannot run in a microVM:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`,
      'remove these settings, or run these services with docker',
    );
  }
}
