/**
 * Phase 3: the Compose Specification's file format as zod schemas. A file is checked right after
 * interpolation, before anything is merged, so each problem keeps its file and line. The schemas follow
 * compose-spec.json: every key the specification defines is accepted, `x-*` extension keys are ignored
 * wherever the specification allows them, and any other key is an error with a did-you-mean.
 */
import { z } from 'zod';
import { suggest } from '../errors.js';

type Kind = 'string' | 'number' | 'boolean' | 'null' | 'array' | 'object';

export function kindOf(v: unknown): Kind {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  const t = typeof v;
  if (t === 'string' || t === 'number' || t === 'boolean') return t;
  return 'object';
}

const KIND_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  null: 'null',
  array: 'a list',
  object: 'a mapping',
  undefined: 'missing',
};

/** Messages in compose's words ("must be a string") rather than zod's. */
export const composeErrorMap: z.ZodErrorMap = (issue, ctx) => {
  switch (issue.code) {
    case z.ZodIssueCode.invalid_type:
      if (issue.received === 'undefined') return { message: 'is required' };
      return { message: `must be ${KIND_NAMES[issue.expected] ?? issue.expected}` };
    case z.ZodIssueCode.invalid_enum_value:
      return { message: `must be one of ${issue.options.join(', ')} (got ${JSON.stringify(issue.received)})` };
    case z.ZodIssueCode.invalid_literal:
      return { message: `must be ${JSON.stringify(issue.expected)}` };
    default:
      return { message: ctx.defaultError };
  }
};

function forward(ctx: z.RefinementCtx, issues: z.ZodIssue[]): void {
  for (const issue of issues)
    ctx.addIssue({ ...issue, code: z.ZodIssueCode.custom, params: (issue as { params?: object }).params });
}

type OutputOf<T> = T extends z.ZodTypeAny ? z.output<T> : never;

/** A value whose accepted schema depends on its YAML type; anything else is "must be <expected>". */
function byType<B extends Partial<Record<Kind, z.ZodTypeAny>>>(
  branches: B,
  expected: string,
): z.ZodType<OutputOf<B[keyof B]>> {
  return z.any().transform((v, ctx) => {
    const schema = branches[kindOf(v)];
    if (!schema) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be ${expected}` });
      return z.NEVER;
    }
    const r = schema.safeParse(v, { errorMap: composeErrorMap });
    if (!r.success) {
      forward(ctx, r.error.issues);
      return z.NEVER;
    }
    return r.data;
  }) as never;
}

/** A mapping with known keys; `x-*` keys are allowed and dropped, other unknown keys are errors. */
function obj<S extends z.ZodRawShape>(shape: S, opts: { extensions?: boolean } = {}) {
  const inner = z.object(shape);
  const known = Object.keys(shape);
  const extensions = opts.extensions ?? true;
  return z.any().transform((v, ctx) => {
    if (kindOf(v) !== 'object') {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be a mapping' });
      return z.NEVER;
    }
    let bad = false;
    for (const k of Object.keys(v)) {
      if (Object.hasOwn(shape, k) || (extensions && k.startsWith('x-'))) continue;
      const near = suggest(k, known);
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: [k],
        message: `unknown key ${JSON.stringify(k)}`,
        params: { hint: near ? `did you mean ${JSON.stringify(near)}?` : undefined },
      });
      bad = true;
    }
    const r = inner.safeParse(v, { errorMap: composeErrorMap });
    if (!r.success) {
      forward(ctx, r.error.issues);
      return z.NEVER;
    }
    return bad ? z.NEVER : (r.data as z.output<typeof inner>);
  });
}

const str = z.string();
const num = z.number();
const bool = z.boolean();
const numOrStr = byType({ number: num, string: str }, 'a number or a string');
const intOrStr = byType({ number: z.number().int(), string: str }, 'an integer or a string');
const boolOrStr = byType({ boolean: bool, string: str }, 'a boolean or a string');
const listOfStrings = z.array(str);
const stringOrList = byType({ string: str, array: listOfStrings }, 'a string or a list of strings');
const scalarValue = byType(
  { string: str, number: num, boolean: bool, null: z.null() },
  'a string, a number, a boolean or null',
);
export const listOrDict = byType(
  { object: z.record(scalarValue), array: listOfStrings },
  'a mapping or a list of KEY=VALUE strings',
);
const stringOrNumberMap = z.record(byType({ string: str, number: num }, 'a string or a number'));
const command = byType({ null: z.null(), string: str, array: listOfStrings }, 'a string or a list of strings');
const extraHosts = byType(
  {
    object: z.record(byType({ string: str, array: listOfStrings }, 'an IP address or a list of them')),
    array: listOfStrings,
  },
  'a mapping or a list of HOST:IP strings',
);
const ulimits = z.record(
  byType(
    { number: z.number().int(), string: str, object: obj({ soft: intOrStr, hard: intOrStr }) },
    'a number or a mapping with soft and hard',
  ),
);
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
const deviceRequest = obj({
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
const external = byType(
  { boolean: bool, string: str, object: obj({ name: str.optional() }) },
  'a boolean or a mapping with name',
);

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
      object: z.record(obj({ endpoint_var: str.optional(), model_var: str.optional() })),
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

const ipamConfig = obj({
  subnet: str.optional(),
  ip_range: str.optional(),
  gateway: str.optional(),
  aux_addresses: z.record(str).optional(),
});

export const networkSchema = byType(
  {
    null: z.null(),
    object: obj({
      name: str.optional(),
      driver: str.optional(),
      driver_opts: stringOrNumberMap.optional(),
      ipam: obj({
        driver: str.optional(),
        config: z.array(ipamConfig).optional(),
        options: z.record(str).optional(),
      }).optional(),
      external: external.optional(),
      internal: boolOrStr.optional(),
      enable_ipv4: boolOrStr.optional(),
      enable_ipv6: boolOrStr.optional(),
      attachable: boolOrStr.optional(),
      labels: listOrDict.optional(),
    }),
  },
  'a mapping or null',
);

export const volumeSchema = byType(
  {
    null: z.null(),
    object: obj({
      name: str.optional(),
      driver: str.optional(),
      driver_opts: stringOrNumberMap.optional(),
      external: external.optional(),
      labels: listOrDict.optional(),
    }),
  },
  'a mapping or null',
);

export const secretSchema = obj({
  name: str.optional(),
  environment: str.optional(),
  file: str.optional(),
  external: external.optional(),
  labels: listOrDict.optional(),
  driver: str.optional(),
  driver_opts: stringOrNumberMap.optional(),
  template_driver: str.optional(),
});

export const configSchema = obj({
  name: str.optional(),
  content: str.optional(),
  environment: str.optional(),
  file: str.optional(),
  external: external.optional(),
  labels: listOrDict.optional(),
  template_driver: str.optional(),
});

const modelSchema = obj({
  name: str.optional(),
  model: str,
  context_size: z.number().int().optional(),
  runtime_flags: listOfStrings.optional(),
});

const NAME = /^[a-zA-Z0-9._-]+$/;

/** A mapping of named entries (services, networks …) whose names must match the specification's pattern. */
function named<T extends z.ZodTypeAny>(entry: T, what: string) {
  return z.record(entry).superRefine((v, ctx) => {
    for (const k of Object.keys(v)) {
      if (!NAME.test(k)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [k],
          message: `invalid ${what} name ${JSON.stringify(k)}`,
          params: { hint: 'names hold letters, digits, ".", "_" and "-"' },
        });
      }
    }
  });
}

export const includeSchema = byType(
  {
    string: str,
    object: obj(
      { path: stringOrList, env_file: stringOrList.optional(), project_directory: str.optional() },
      { extensions: false },
    ),
  },
  'a path or a mapping with path',
);

/** One compose file, as written. */
export const composeFileSchema = obj({
  version: byType({ string: str, number: num }, 'a string').optional(),
  name: str.optional(),
  include: z.array(includeSchema).optional(),
  services: byType({ null: z.null(), object: named(serviceSchema, 'service') }, 'a mapping').optional(),
  models: byType({ null: z.null(), object: named(modelSchema, 'model') }, 'a mapping').optional(),
  networks: byType({ null: z.null(), object: named(networkSchema, 'network') }, 'a mapping').optional(),
  volumes: byType({ null: z.null(), object: named(volumeSchema, 'volume') }, 'a mapping').optional(),
  secrets: byType({ null: z.null(), object: named(secretSchema, 'secret') }, 'a mapping').optional(),
  configs: byType({ null: z.null(), object: named(configSchema, 'config') }, 'a mapping').optional(),
});

export type RawComposeFile = z.output<typeof composeFileSchema>;
export type RawService = z.output<typeof serviceSchema>;
export type RawNetwork = NonNullable<z.output<typeof networkSchema>>;
export type RawVolume = NonNullable<z.output<typeof volumeSchema>>;
export type RawSecret = z.output<typeof secretSchema>;
export type RawConfig = z.output<typeof configSchema>;
export type RawBuild = z.output<typeof buildSchema>;

/** A schema problem with its key path; the hint carries did-you-mean suggestions. */
export interface SchemaIssue {
  path: (string | number)[];
  message: string;
  hint?: string;
}

/** Checks a whole file; returns the typed value or every problem found. */
export function validateComposeFile(value: unknown): { data?: RawComposeFile; issues: SchemaIssue[] } {
  const r = composeFileSchema.safeParse(value, { errorMap: composeErrorMap });
  if (r.success) return { data: r.data, issues: [] };
  return {
    issues: r.error.issues.map((i) => ({
      path: i.path,
      message: i.message,
      hint: (i as { params?: { hint?: string } }).params?.hint,
    })),
  };
}
