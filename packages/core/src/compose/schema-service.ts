/**
 * A service of the Compose Specification (compose-spec.json's `service` and what it refers to) as a zod
 * schema. Newer keys HYPR does not run (`models`, `provider`, lifecycle hooks, `develop`, `gpus` …) are
 * accepted here; convert.ts reports them when a command needs them.
 */
import { z } from 'zod';
import {
  bool,
  boolOrStr,
  byType,
  command,
  extraHosts,
  intOrStr,
  listOfStrings,
  listOrDict,
  num,
  numOrStr,
  obj,
  scalarValue,
  str,
  stringOrList,
  stringOrNumberMap,
  ulimits,
} from './schema-kit.js';

const serviceConfigOrSecret = z.array(
  byType(
    {
      string: str,
      object: obj({
        source: str.optional(),
        target: str.optional(),
        uid: str.optional(),
        gid: str.optional(),
        mode: numOrStr.optional(),
      }),
    },
    'a name or a mapping with source and target',
  ),
);
export const deviceRequest = obj({
  capabilities: listOfStrings.optional(),
  count: intOrStr.optional(),
  device_ids: listOfStrings.optional(),
  driver: str.optional(),
  options: listOrDict.optional(),
});
const blkioLimit = obj({ path: str.optional(), rate: intOrStr.optional() }, { extensions: false });
const blkioWeight = obj({ path: str.optional(), weight: intOrStr.optional() }, { extensions: false });
const serviceHook = obj({
  command,
  user: str.optional(),
  privileged: boolOrStr.optional(),
  working_dir: str.optional(),
  environment: listOrDict.optional(),
});
export const buildSchema = byType(
  {
    string: str,
    object: obj({
      context: str.optional(),
      dockerfile: str.optional(),
      dockerfile_inline: str.optional(),
      entitlements: listOfStrings.optional(),
      args: listOrDict.optional(),
      ssh: byType(
        { object: z.record(scalarValue), array: listOfStrings, string: str },
        'a mapping or a list',
      ).optional(),
      labels: listOrDict.optional(),
      cache_from: listOfStrings.optional(),
      cache_to: listOfStrings.optional(),
      no_cache: boolOrStr.optional(),
      no_cache_filter: stringOrList.optional(),
      additional_contexts: listOrDict.optional(),
      network: str.optional(),
      provenance: byType({ string: str, boolean: bool }, 'a string or a boolean').optional(),
      sbom: byType({ string: str, boolean: bool }, 'a string or a boolean').optional(),
      pull: boolOrStr.optional(),
      target: str.optional(),
      shm_size: numOrStr.optional(),
      extra_hosts: extraHosts.optional(),
      isolation: str.optional(),
      privileged: boolOrStr.optional(),
      secrets: serviceConfigOrSecret.optional(),
      tags: listOfStrings.optional(),
      ulimits: ulimits.optional(),
      platforms: listOfStrings.optional(),
    }),
  },
  'a context path or a mapping',
);

const portObject = obj({
  name: str.optional(),
  mode: str.optional(),
  host_ip: str.optional(),
  target: intOrStr.optional(),
  published: intOrStr.optional(),
  protocol: str.optional(),
  app_protocol: str.optional(),
});

const volumeObject = obj({
  type: z.enum(['bind', 'volume', 'tmpfs', 'cluster', 'npipe', 'image']),
  source: str.optional(),
  target: str.optional(),
  read_only: boolOrStr.optional(),
  consistency: str.optional(),
  bind: obj({
    propagation: str.optional(),
    create_host_path: boolOrStr.optional(),
    recursive: z.enum(['enabled', 'disabled', 'writable', 'readonly']).optional(),
    selinux: z.enum(['z', 'Z']).optional(),
  }).optional(),
  volume: obj({ labels: listOrDict.optional(), nocopy: boolOrStr.optional(), subpath: str.optional() }).optional(),
  tmpfs: obj({ size: intOrStr.optional(), mode: numOrStr.optional() }).optional(),
  image: obj({ subpath: str.optional() }).optional(),
});

const healthcheck = obj({
  disable: boolOrStr.optional(),
  interval: str.optional(),
  retries: numOrStr.optional(),
  test: stringOrList.optional(),
  timeout: str.optional(),
  start_period: str.optional(),
  start_interval: str.optional(),
});

const resourceLimits = obj({ cpus: numOrStr.optional(), memory: numOrStr.optional(), pids: intOrStr.optional() });
const resourceReservations = obj({
  cpus: numOrStr.optional(),
  memory: numOrStr.optional(),
  generic_resources: z
    .array(
      obj({
        discrete_resource_spec: obj({ kind: str.optional(), value: numOrStr.optional() }).optional(),
      }),
    )
    .optional(),
  devices: z.array(deviceRequest).optional(),
});
const updateConfig = obj({
  parallelism: intOrStr.optional(),
  delay: str.optional(),
  failure_action: str.optional(),
  monitor: str.optional(),
  max_failure_ratio: numOrStr.optional(),
  order: z.enum(['start-first', 'stop-first']).optional(),
});
const deploy = byType(
  {
    null: z.null(),
    object: obj({
      mode: str.optional(),
      endpoint_mode: str.optional(),
      replicas: intOrStr.optional(),
      labels: listOrDict.optional(),
      rollback_config: updateConfig.optional(),
      update_config: updateConfig.optional(),
      resources: obj({ limits: resourceLimits.optional(), reservations: resourceReservations.optional() }).optional(),
      restart_policy: obj({
        condition: str.optional(),
        delay: str.optional(),
        max_attempts: intOrStr.optional(),
        window: str.optional(),
      }).optional(),
      placement: obj({
        constraints: listOfStrings.optional(),
        preferences: z.array(obj({ spread: str.optional() })).optional(),
        max_replicas_per_node: intOrStr.optional(),
      }).optional(),
    }),
  },
  'a mapping',
);

const develop = byType(
  {
    null: z.null(),
    object: obj({
      watch: z
        .array(
          obj({
            ignore: stringOrList.optional(),
            include: stringOrList.optional(),
            path: str,
            action: z.enum(['rebuild', 'sync', 'restart', 'sync+restart', 'sync+exec']),
            target: str.optional(),
            exec: serviceHook.optional(),
            initial_sync: boolOrStr.optional(),
          }),
        )
        .optional(),
    }),
  },
  'a mapping',
);

const dependsOnEntry = obj({
  restart: boolOrStr.optional(),
  required: bool.optional(),
  condition: z.enum(['service_started', 'service_healthy', 'service_completed_successfully']),
});

const serviceNetworkEntry = byType(
  {
    null: z.null(),
    object: obj({
      aliases: listOfStrings.optional(),
      interface_name: str.optional(),
      ipv4_address: str.optional(),
      ipv6_address: str.optional(),
      link_local_ips: listOfStrings.optional(),
      mac_address: str.optional(),
      driver_opts: stringOrNumberMap.optional(),
      priority: num.optional(),
      gw_priority: num.optional(),
    }),
  },
  'a mapping or null',
);

const envFileEntry = byType(
  {
    string: str,
    object: obj({ path: str, format: str.optional(), required: boolOrStr.optional() }, { extensions: false }),
  },
  'a path or a mapping with path and required',
);

export const serviceSchema = obj({
  develop: develop.optional(),
  deploy: deploy.optional(),
  annotations: listOrDict.optional(),
  attach: boolOrStr.optional(),
  build: buildSchema.optional(),
  blkio_config: obj(
    {
      device_read_bps: z.array(blkioLimit).optional(),
      device_read_iops: z.array(blkioLimit).optional(),
      device_write_bps: z.array(blkioLimit).optional(),
      device_write_iops: z.array(blkioLimit).optional(),
      weight: intOrStr.optional(),
      weight_device: z.array(blkioWeight).optional(),
    },
    { extensions: false },
  ).optional(),
  cap_add: listOfStrings.optional(),
  cap_drop: listOfStrings.optional(),
  cgroup: z.enum(['host', 'private']).optional(),
  cgroup_parent: str.optional(),
  command: command.optional(),
  configs: serviceConfigOrSecret.optional(),
  container_name: str.optional(),
  cpu_count: intOrStr.optional(),
  cpu_percent: intOrStr.optional(),
  cpu_shares: numOrStr.optional(),
  cpu_quota: numOrStr.optional(),
  cpu_period: numOrStr.optional(),
  cpu_rt_period: numOrStr.optional(),
  cpu_rt_runtime: numOrStr.optional(),
  cpus: numOrStr.optional(),
  cpuset: str.optional(),
  credential_spec: obj({ config: str.optional(), file: str.optional(), registry: str.optional() }).optional(),
  depends_on: byType(
    { array: listOfStrings, object: z.record(dependsOnEntry) },
    'a list of service names or a mapping of service to condition',
  ).optional(),
  device_cgroup_rules: listOfStrings.optional(),
  devices: z
    .array(
      byType(
        {
          string: str,
          object: obj({ source: str, target: str.optional(), permissions: str.optional() }),
        },
        'a string or a mapping with source',
      ),
    )
    .optional(),
  dns: stringOrList.optional(),
  dns_opt: listOfStrings.optional(),
  dns_search: stringOrList.optional(),
  domainname: str.optional(),
  entrypoint: command.optional(),
  env_file: byType({ string: str, array: z.array(envFileEntry) }, 'a path or a list of paths').optional(),
  label_file: stringOrList.optional(),
  environment: listOrDict.optional(),
  expose: z.array(byType({ string: str, number: num }, 'a port number or range')).optional(),
  extends: byType(
    { string: str, object: obj({ service: str, file: str.optional() }, { extensions: false }) },
    'a service name or a mapping with service and file',
  ).optional(),
  provider: obj({
    type: str,
    options: z.record(z.unknown()).optional(),
  }).optional(),
  external_links: listOfStrings.optional(),
  extra_hosts: extraHosts.optional(),
  gpus: byType({ string: z.literal('all'), array: z.array(deviceRequest) }, '"all" or a list of devices').optional(),
  group_add: z.array(byType({ string: str, number: num }, 'a group name or id')).optional(),
  healthcheck: healthcheck.optional(),
  hostname: str.optional(),
  image: str.optional(),
  init: boolOrStr.optional(),
  ipc: str.optional(),
  isolation: str.optional(),
  labels: listOrDict.optional(),
  links: listOfStrings.optional(),
  logging: obj({
    driver: str.optional(),
    options: z.record(byType({ string: str, number: num, null: z.null() }, 'a string or a number')).optional(),
  }).optional(),
  mac_address: str.optional(),
  mem_limit: numOrStr.optional(),
  mem_reservation: numOrStr.optional(),
  mem_swappiness: intOrStr.optional(),
  memswap_limit: numOrStr.optional(),
  network_mode: str.optional(),
  models: byType(
    {
      array: listOfStrings,
      object: z.record(
        byType(
          { null: z.null(), object: obj({ endpoint_var: str.optional(), model_var: str.optional() }) },
          'a mapping or null',
        ),
      ),
    },
    'a list or a mapping',
  ).optional(),
  networks: byType(
    { array: listOfStrings, object: z.record(serviceNetworkEntry) },
    'a list of network names or a mapping',
  ).optional(),
  oom_kill_disable: boolOrStr.optional(),
  oom_score_adj: intOrStr.optional(),
  pid: byType({ string: str, null: z.null() }, 'a string').optional(),
  pids_limit: numOrStr.optional(),
  platform: str.optional(),
  ports: z
    .array(byType({ number: num, string: str, object: portObject }, 'a port mapping string or a mapping'))
    .optional(),
  post_start: z.array(serviceHook).optional(),
  pre_start: z
    .array(
      obj({
        command: command.optional(),
        image: str.optional(),
        user: str.optional(),
        privileged: boolOrStr.optional(),
        working_dir: str.optional(),
        environment: listOrDict.optional(),
        per_replica: boolOrStr.optional(),
      }),
    )
    .optional(),
  pre_stop: z.array(serviceHook).optional(),
  privileged: boolOrStr.optional(),
  profiles: listOfStrings.optional(),
  pull_policy: str.optional(),
  pull_refresh_after: str.optional(),
  read_only: boolOrStr.optional(),
  restart: str.optional(),
  runtime: str.optional(),
  scale: intOrStr.optional(),
  security_opt: listOfStrings.optional(),
  shm_size: numOrStr.optional(),
  secrets: serviceConfigOrSecret.optional(),
  sysctls: listOrDict.optional(),
  stdin_open: boolOrStr.optional(),
  stop_grace_period: str.optional(),
  stop_signal: str.optional(),
  storage_opt: z.record(z.unknown()).optional(),
  tmpfs: stringOrList.optional(),
  tty: boolOrStr.optional(),
  ulimits: ulimits.optional(),
  use_api_socket: bool.optional(),
  user: str.optional(),
  uts: str.optional(),
  userns_mode: str.optional(),
  volumes: z.array(byType({ string: str, object: volumeObject }, 'a volume string or a mapping')).optional(),
  volumes_from: listOfStrings.optional(),
  working_dir: str.optional(),
});
