/**
 * The normalised compose model: what loadCompose returns and printCompose writes. Keys and shapes follow
 * `docker compose config`: short syntaxes expanded to the long ones, lists of KEY=VALUE turned into
 * mappings, paths made absolute, durations in Go's canonical form (`1m30s`), sizes in bytes.
 */
import type { ComposePort } from './ports.js';
import type { RawService } from './schema.js';
import type { ComposeVolumeMount } from './volumes.js';

export type { ComposePort } from './ports.js';
export type { ComposeVolumeMount } from './volumes.js';

export interface ComposeBuild {
  /** Absolute path, or a URL (git or http) left as written. */
  context: string;
  dockerfile?: string;
  dockerfile_inline?: string;
  args?: Record<string, string | null>;
  labels?: Record<string, string>;
  target?: string;
  cache_from?: string[];
  cache_to?: string[];
  secrets?: ComposeFileReference[];
  extra_hosts?: Record<string, string[]>;
  additional_contexts?: Record<string, string>;
  tags?: string[];
  platforms?: string[];
  network?: string;
  no_cache?: boolean;
  pull?: boolean;
  shm_size?: number;
  [key: string]: unknown;
}

/** A secret or config granted to a service. */
export interface ComposeFileReference {
  source: string;
  target?: string;
  uid?: string;
  gid?: string;
  mode?: number;
}

export interface ComposeEnvFile {
  path: string;
  required: boolean;
  format?: string;
}

export interface ComposeServiceNetwork {
  aliases?: string[];
  ipv4_address?: string;
  ipv6_address?: string;
  interface_name?: string;
  link_local_ips?: string[];
  mac_address?: string;
  driver_opts?: Record<string, string | number>;
  priority?: number;
  gw_priority?: number;
}

export type ComposeDependencyCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface ComposeDependency {
  condition: ComposeDependencyCondition;
  required: boolean;
  restart?: boolean;
}

export interface ComposeHealthcheck {
  /** `["CMD", …]`, `["CMD-SHELL", "…"]` or `["NONE"]`. */
  test?: string[];
  interval?: string;
  timeout?: string;
  start_period?: string;
  start_interval?: string;
  retries?: number;
  disable?: boolean;
}

export interface ComposeResources {
  cpus?: number;
  memory?: number;
  pids?: number;
  [key: string]: unknown;
}

export interface ComposeDeploy {
  mode?: string;
  replicas?: number;
  labels?: Record<string, string>;
  resources?: { limits?: ComposeResources; reservations?: ComposeResources };
  restart_policy?: { condition?: string; delay?: string; max_attempts?: number; window?: string };
  [key: string]: unknown;
}

export type ComposeUlimit = number | { soft: number; hard: number };

export interface ComposeDevice {
  source: string;
  target: string;
  permissions: string;
}

/** Keys whose shape the loader normalises; every other key of the specification passes through as validated. */
export interface ComposeServiceCore {
  image?: string;
  build?: ComposeBuild;
  command?: string[] | null;
  entrypoint?: string[] | null;
  environment?: Record<string, string | null>;
  env_file?: ComposeEnvFile[];
  /** Absolute paths of label files (read into labels by the load). */
  label_file?: string[];
  ports?: ComposePort[];
  expose?: string[];
  volumes?: ComposeVolumeMount[];
  networks?: Record<string, ComposeServiceNetwork | null>;
  depends_on?: Record<string, ComposeDependency>;
  healthcheck?: ComposeHealthcheck;
  deploy?: ComposeDeploy;
  cpus?: number;
  mem_limit?: number;
  mem_reservation?: number;
  memswap_limit?: number;
  shm_size?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  stop_grace_period?: string;
  init?: boolean;
  privileged?: boolean;
  read_only?: boolean;
  tty?: boolean;
  stdin_open?: boolean;
  oom_kill_disable?: boolean;
  tmpfs?: string[];
  ulimits?: Record<string, ComposeUlimit>;
  sysctls?: Record<string, string>;
  extra_hosts?: Record<string, string[]>;
  dns?: string[];
  dns_search?: string[];
  devices?: ComposeDevice[];
  secrets?: ComposeFileReference[];
  configs?: ComposeFileReference[];
  scale?: number;
  pids_limit?: number;
  pid?: string | null;
}

export type ComposeService = ComposeServiceCore & Omit<RawService, keyof ComposeServiceCore | 'extends'>;

/** `x-*` keys, kept as written wherever the specification allows them. */
export type ComposeExtensions = { [key: `x-${string}`]: unknown };

export interface ComposeNetwork extends ComposeExtensions {
  name: string;
  driver?: string;
  driver_opts?: Record<string, string | number>;
  external?: boolean;
  internal?: boolean;
  attachable?: boolean;
  enable_ipv4?: boolean;
  enable_ipv6?: boolean;
  labels?: Record<string, string>;
  ipam?: {
    driver?: string;
    config?: { subnet?: string; ip_range?: string; gateway?: string; aux_addresses?: Record<string, string> }[];
    options?: Record<string, string>;
  };
}

export interface ComposeVolume extends ComposeExtensions {
  name: string;
  driver?: string;
  driver_opts?: Record<string, string | number>;
  external?: boolean;
  labels?: Record<string, string>;
}

/** A top-level secret or config: where its content comes from. */
export interface ComposeFileObject extends ComposeExtensions {
  name: string;
  file?: string;
  environment?: string;
  content?: string;
  external?: boolean;
  labels?: Record<string, string>;
  driver?: string;
  driver_opts?: Record<string, string | number>;
  template_driver?: string;
}

export interface ComposeProject {
  name: string;
  /** The project directory: relative paths in the files were resolved against it. */
  workingDir: string;
  services: Record<string, ComposeService>;
  networks: Record<string, ComposeNetwork>;
  volumes: Record<string, ComposeVolume>;
  secrets: Record<string, ComposeFileObject>;
  configs: Record<string, ComposeFileObject>;
  /** Services left out because none of their profiles is enabled. */
  disabledServices: Record<string, ComposeService>;
  /** The compose files loaded, in order (absolute paths). */
  files: string[];
  /** The variables used for interpolation (shell environment over .env files). */
  environment: Record<string, string>;
  /** Non-fatal findings: unset variables, deprecated keys. */
  warnings: string[];
  /** Top-level `x-*` keys of the files, merged. */
  extensions?: Record<string, unknown>;
}
