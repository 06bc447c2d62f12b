/**
 * The shapes the containers concern shares between its modules and with the rest of hyprd:
 * what `create` asks for, what is stored, what a listing shows, what an attached client sends.
 * Types only, so every module (health, inspect, the orchestrator's parts) can import them.
 */
import type { containers } from '@hypr/core';
import type { ContainerNetworkOptions } from '../networks/index.js';
import type { ResolvedMount } from '../volumes/index.js';

/** A lifecycle event, as `docker events` shows it. */
export interface ContainerEvent {
  type: 'container';
  action: string;
  id: string;
  attributes: Record<string, string>;
  timeNano: bigint;
}

export type RestartPolicyName = 'no' | 'on-failure' | 'always' | 'unless-stopped';

export interface HealthcheckConfig {
  test: string[];
  intervalMs?: number;
  timeoutMs?: number;
  startPeriodMs?: number;
  retries?: number;
}

/** What `hypr create` / `run` ask for, after the CLI has parsed the flags. */
export interface CreateContainerOptions {
  image: string;
  name?: string;
  command?: string[];
  /** undefined keeps the image's; '' clears it. */
  entrypoint?: string;
  env?: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  labels?: Record<string, string>;
  cpus?: number;
  memoryBytes?: number;
  ports?: string[];
  volumes?: string[];
  /** --mount, --tmpfs and --volumes-from as given (see mount-spec.ts). */
  mounts?: string[];
  tmpfs?: string[];
  volumesFrom?: string[];
  restartPolicy?: { name: RestartPolicyName; maximumRetryCount?: number };
  autoRemove?: boolean;
  tty?: boolean;
  openStdin?: boolean;
  stopSignal?: string;
  stopTimeoutSeconds?: number;
  healthcheck?: HealthcheckConfig;
  noHealthcheck?: boolean;
  /** --network, --network-alias, --ip, -P (networks.ts). */
  network?: ContainerNetworkOptions;
}

/** What is stored in containers.config. */
export interface StoredContainerConfig {
  create: CreateContainerOptions;
  /** Entrypoint + Cmd resolved against the image. */
  argv: string[];
  path: string;
  args: string[];
  env: string[];
  workdir?: string;
  user?: string;
  hostname: string;
  stopSignal: string;
  stopTimeoutSeconds: number;
  cpus: number;
  memoryMiB: number;
  imageId: string;
  entrypoint: string[] | null;
  cmd: string[] | null;
  exposedPorts: Record<string, object>;
  healthcheck?: HealthcheckConfig;
  /** Resolved at create (volumes made, bind sources checked); mounted at each start. */
  mounts?: ResolvedMount[];
}

export type ContainerRow = typeof containers.$inferSelect;

export interface ContainerView {
  row: ContainerRow;
  config: StoredContainerConfig;
  status: string;
  /** The networks it joins (ps NETWORKS), where the listing asked for them. */
  networks?: string[];
}

/** How a container's program ended, as wait/attach/exec report it. */
export interface ExitStatus {
  exitCode: number;
  error?: string;
}

/** What an attached client sends: its stdin, terminal size changes, the end of its stdin, signals. */
export interface AttachInput {
  stdin?: Uint8Array;
  resize?: { rows: number; cols: number };
  closeStdin?: boolean;
  signal?: string;
}

export interface AttachIo {
  /** Forward the client's stdin; its end closes the program's stdin. */
  stdin: boolean;
  size?: { rows: number; cols: number };
  input: AsyncIterable<AttachInput>;
}
