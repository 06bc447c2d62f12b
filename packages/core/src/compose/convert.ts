/**
 * From the loaded compose project to the stack HYPR runs: one microVM per service replica. Each service
 * becomes its image (or the build to run first), argv overrides, environment, published ports, mounts,
 * networks with DNS aliases, resources, health check and restart policy; the stack gets a start order
 * honouring depends_on, as groups that may start in parallel. What a microVM cannot honour is reported:
 * an error when running without it would break the workload (host namespaces, host devices), a warning
 * when the setting only tunes the host kernel or is already covered by the VM boundary.
 */
import { HyprError } from '../errors.js';
import type {
  ComposeDependencyCondition,
  ComposeFileObject,
  ComposeProject,
  ComposeService,
  ComposeUlimit,
} from './types.js';
import { parseBytes, parseDurationNs } from './units.js';

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

const MiB = 1024 * 1024;

function ms(duration: string | undefined, fallback: number): number {
  if (duration === undefined) return fallback;
  return Math.round((parseDurationNs(duration) ?? fallback * 1e6) / 1e6);
}

function memoryMiB(bytes: number | undefined): number | undefined {
  return bytes === undefined ? undefined : Math.ceil(bytes / MiB);
}

/** Groups services so that each one comes after everything it depends on. Assumes no cycles (checked at load). */
export function computeStartOrder(services: Record<string, Pick<ComposeService, 'depends_on'>>): string[][] {
  const level = new Map<string, number>();
  const depth = (name: string, seen: Set<string>): number => {
    const known = level.get(name);
    if (known !== undefined) return known;
    if (seen.has(name)) return 0;
    seen.add(name);
    let d = 0;
    for (const dep of Object.keys(services[name]?.depends_on ?? {})) {
      if (services[dep] && dep !== name) d = Math.max(d, depth(dep, seen) + 1);
    }
    level.set(name, d);
    return d;
  };
  const groups: string[][] = [];
  for (const name of Object.keys(services).sort()) {
    const d = depth(name, new Set());
    (groups[d] ??= []).push(name);
  }
  return groups.filter(Boolean);
}

/** Checks each setting a microVM cannot honour; pushes warnings and errors. */
function checkSupport(
  name: string,
  svc: ComposeService,
  warn: (p: string, m: string) => void,
  fail: (p: string, m: string) => void,
) {
  const at = (k: string) => `services.${name}.${k}`;
  const nm = svc.network_mode;
  if (nm === 'host')
    fail(at('network_mode'), 'network_mode: host shares the host network stack, which a microVM cannot do');
  else if (nm?.startsWith('service:') || nm?.startsWith('container:')) {
    fail(
      at('network_mode'),
      `network_mode: ${nm} shares another container's network stack, which separate microVMs cannot do`,
    );
  } else if (nm !== undefined && nm !== 'none' && nm !== 'bridge' && nm !== 'default') {
    warn(at('network_mode'), `network_mode: ${nm} is not known to HYPR; the service joins the default network`);
  }
  for (const k of ['pid', 'ipc', 'uts', 'userns_mode', 'cgroup'] as const) {
    const v = svc[k];
    if (v === 'host') {
      if (k === 'pid' || k === 'ipc')
        fail(at(k), `${k}: host shares a host namespace, which a microVM with its own kernel cannot do`);
      else warn(at(k), `${k}: host has no effect: the service runs in its own kernel`);
    } else if (typeof v === 'string' && (v.startsWith('service:') || v.startsWith('container:'))) {
      fail(at(k), `${k}: ${v} shares a namespace between services, which separate microVMs cannot do`);
    }
  }
  if (svc.privileged) {
    warn(
      at('privileged'),
      'privileged gives the workload every capability inside its own VM; host devices stay out of reach',
    );
  }
  if (svc.devices?.length) fail(at('devices'), 'host devices cannot be passed into a microVM');
  if (svc.gpus !== undefined) fail(at('gpus'), 'GPUs cannot be passed into a microVM');
  if (svc.deploy?.resources?.reservations?.devices)
    fail(at('deploy.resources.reservations.devices'), 'device reservations cannot be honoured in a microVM');
  if (svc.use_api_socket) fail(at('use_api_socket'), 'there is no Docker API socket to mount in a HYPR microVM');
  svc.volumes?.forEach((v, i) => {
    if (v.type === 'npipe' || v.type === 'cluster' || v.type === 'image') {
      fail(`${at('volumes')}[${i}]`, `${v.type} mounts are not supported in a microVM`);
    }
    if (v.bind?.propagation || v.bind?.selinux) {
      warn(
        `${at('volumes')}[${i}]`,
        'bind propagation and SELinux relabelling do not apply to a shared directory of a VM; ignored',
      );
    }
  });
  svc.ports?.forEach((p, i) => {
    if (p.protocol === 'sctp') fail(`${at('ports')}[${i}]`, 'sctp ports cannot be published by HYPR (tcp and udp can)');
  });
  const ignored: [keyof ComposeService, string][] = [
    ['device_cgroup_rules', 'device cgroup rules have no effect: no host devices reach the VM'],
    ['cap_add', 'capabilities are not restricted inside the VM: the VM is the isolation boundary'],
    ['cap_drop', 'capabilities are not restricted inside the VM: the VM is the isolation boundary'],
    ['security_opt', 'security options (seccomp, AppArmor, SELinux) apply to host containers; ignored'],
    ['cgroup_parent', 'host cgroups do not apply to a VM; ignored'],
    ['runtime', 'the service always runs as a HYPR microVM; runtime ignored'],
    ['isolation', 'the service always runs as a HYPR microVM; isolation ignored'],
    ['cpu_shares', 'CPU shares are not applied; use cpus'],
    ['cpu_quota', 'CPU quota is not applied; use cpus'],
    ['cpu_period', 'CPU period is not applied; use cpus'],
    ['cpu_rt_period', 'real-time CPU scheduling is not applied'],
    ['cpu_rt_runtime', 'real-time CPU scheduling is not applied'],
    ['cpuset', 'CPU pinning is not applied'],
    ['cpu_count', 'cpu_count is not applied; use cpus'],
    ['cpu_percent', 'cpu_percent is not applied; use cpus'],
    ['mem_swappiness', 'the VM has no swap; ignored'],
    ['memswap_limit', 'the VM has no swap; ignored'],
    ['oom_kill_disable', "the OOM killer is the guest kernel's; ignored"],
    ['oom_score_adj', "the OOM score is the guest kernel's; ignored"],
    ['blkio_config', 'block IO limits are not applied'],
    ['storage_opt', 'storage options are not applied'],
    ['volumes_from', 'volumes_from is not supported yet; declare the volumes on this service'],
    ['links', 'links are not needed: services reach each other by name on their networks'],
    ['external_links', 'external_links are not supported'],
    ['post_start', 'lifecycle hooks are not supported yet'],
    ['pre_stop', 'lifecycle hooks are not supported yet'],
    ['credential_spec', 'credential specs are Windows-only; ignored'],
    ['mac_address', 'MAC addresses are assigned by HYPR; ignored'],
  ];
  for (const [k, m] of ignored) if (svc[k] !== undefined && svc[k] !== false) warn(at(k as string), m);
  if (svc.logging?.driver && svc.logging.driver !== 'json-file' && svc.logging.driver !== 'local') {
    warn(at('logging.driver'), `logging driver ${svc.logging.driver} is not supported; HYPR keeps the logs itself`);
  }
  if (svc.deploy?.placement) warn(at('deploy.placement'), 'placement applies to swarm clusters; ignored');
}

function restartPolicy(svc: ComposeService): StackRestartPolicy {
  if (svc.restart) {
    const [policy, max] = svc.restart.split(':');
    return max !== undefined
      ? { policy: 'on-failure', maxRetries: Number(max) }
      : { policy: policy as StackRestartPolicy['policy'] };
  }
  const rp = svc.deploy?.restart_policy;
  if (rp?.condition) {
    const policy = rp.condition === 'any' ? 'always' : rp.condition === 'on-failure' ? 'on-failure' : 'no';
    return rp.max_attempts !== undefined && policy !== 'no' ? { policy, maxRetries: rp.max_attempts } : { policy };
  }
  return { policy: 'no' };
}

function ulimit(u: ComposeUlimit): { soft: number; hard: number } {
  return typeof u === 'number' ? { soft: u, hard: u } : u;
}

function tmpfsMount(spec: string): StackMount {
  const [target, opts] = spec.split(/:(.*)/s);
  const m: StackMount = { type: 'tmpfs', target };
  for (const o of opts ? opts.split(',') : []) {
    const [k, v] = o.split('=');
    if (k === 'size' && v) m.sizeBytes = parseBytes(v);
    if (k === 'mode' && v) m.mode = Number.parseInt(v, 8);
  }
  return m;
}

function fileObject(
  kind: 'secret' | 'config',
  ref: { source: string; target?: string; uid?: string; gid?: string; mode?: number },
  obj: ComposeFileObject,
  project: ComposeProject,
  fail: (p: string, m: string) => void,
  path: string,
): StackFile {
  const target =
    ref.target === undefined
      ? kind === 'secret'
        ? `/run/secrets/${ref.source}`
        : `/${ref.source}`
      : kind === 'secret' && !ref.target.startsWith('/')
        ? `/run/secrets/${ref.target}`
        : ref.target;
  const f: StackFile = { kind, name: ref.source, target, mode: ref.mode ?? 0o444 };
  if (ref.uid !== undefined) f.uid = ref.uid;
  if (ref.gid !== undefined) f.gid = ref.gid;
  if (obj.file !== undefined) f.sourceFile = obj.file;
  else if (obj.environment !== undefined) f.content = project.environment[obj.environment] ?? '';
  else if (obj.content !== undefined) f.content = obj.content;
  else if (obj.external)
    fail(path, `external ${kind}s live in a swarm cluster; give HYPR a file or environment source`);
  return f;
}

/** Converts a loaded project into the stack HYPR runs. Throws ComposeUnsupportedError for what cannot run. */
export function convertToStack(project: ComposeProject): StackSpec {
  const warnings: StackNotice[] = [];
  const errors: StackNotice[] = [];
  const services: Record<string, StackService> = {};
  for (const [name, svc] of Object.entries(project.services)) {
    const warn = (path: string, message: string) => warnings.push({ service: name, path, message });
    const fail = (path: string, message: string) => errors.push({ service: name, path, message });
    checkSupport(name, svc, warn, fail);
    const at = `services.${name}`;

    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(svc.environment ?? {})) if (v !== null) env[k] = v;

    const ports: StackPort[] = [];
    for (const p of svc.ports ?? []) {
      if (p.protocol === 'sctp') continue;
      const port: StackPort = { containerPort: p.target, protocol: p.protocol as 'tcp' | 'udp' };
      if (p.host_ip) port.hostIp = p.host_ip;
      if (p.published) {
        const [a, b] = p.published.split('-').map(Number);
        port.hostPort = a;
        if (b !== undefined && b !== a) port.hostPortEnd = b;
      }
      ports.push(port);
    }

    const mounts: StackMount[] = [];
    for (const v of svc.volumes ?? []) {
      if (v.type === 'bind' && v.source) {
        mounts.push({
          type: 'bind',
          source: v.source,
          target: v.target,
          readOnly: !!v.read_only,
          createHostPath: !!v.bind?.create_host_path,
        });
      } else if (v.type === 'volume') {
        const m: StackMount = { type: 'volume', target: v.target, readOnly: !!v.read_only, noCopy: !!v.volume?.nocopy };
        if (v.source) m.source = project.volumes[v.source]?.name ?? v.source;
        if (v.volume?.subpath) m.subpath = v.volume.subpath;
        mounts.push(m);
      } else if (v.type === 'tmpfs') {
        const m: StackMount = { type: 'tmpfs', target: v.target };
        if (v.tmpfs?.size !== undefined) m.sizeBytes = v.tmpfs.size;
        if (v.tmpfs?.mode !== undefined) m.mode = v.tmpfs.mode;
        mounts.push(m);
      }
    }
    for (const t of svc.tmpfs ?? []) mounts.push(tmpfsMount(t));

    const files: StackFile[] = [];
    svc.secrets?.forEach((s, i) => {
      const obj = project.secrets[s.source];
      if (obj) files.push(fileObject('secret', s, obj, project, fail, `${at}.secrets[${i}]`));
    });
    svc.configs?.forEach((c, i) => {
      const obj = project.configs[c.source];
      if (obj) files.push(fileObject('config', c, obj, project, fail, `${at}.configs[${i}]`));
    });

    const networks: StackNetworkAttachment[] = [];
    if (svc.network_mode !== 'none') {
      const entries = Object.entries(svc.networks ?? { default: null }).sort(
        ([, a], [, b]) => (b?.priority ?? 0) - (a?.priority ?? 0),
      );
      for (const [key, cfg] of entries) {
        const aliases = [name, ...(cfg?.aliases ?? [])];
        if (svc.container_name) aliases.push(svc.container_name);
        if (svc.hostname && !aliases.includes(svc.hostname)) aliases.push(svc.hostname);
        const att: StackNetworkAttachment = {
          network: key,
          name: project.networks[key]?.name ?? `${project.name}_${key}`,
          aliases: [...new Set(aliases)],
        };
        if (cfg?.ipv4_address) att.ipv4Address = cfg.ipv4_address;
        if (cfg?.ipv6_address) att.ipv6Address = cfg.ipv6_address;
        if (cfg?.mac_address) att.macAddress = cfg.mac_address;
        networks.push(att);
      }
    }

    const limits = svc.deploy?.resources?.limits;
    const reservations = svc.deploy?.resources?.reservations;
    const resources: StackResources = {};
    const cpus = limits?.cpus ?? svc.cpus;
    if (cpus !== undefined && cpus > 0) resources.cpus = cpus;
    const mem = memoryMiB(limits?.memory ?? svc.mem_limit);
    if (mem !== undefined && mem > 0) resources.memoryMiB = mem;
    if (reservations?.cpus !== undefined) resources.reservedCpus = reservations.cpus;
    const rmem = memoryMiB(reservations?.memory ?? svc.mem_reservation);
    if (rmem !== undefined) resources.reservedMemoryMiB = rmem;
    const pids = limits?.pids ?? svc.pids_limit;
    if (pids !== undefined && pids > 0) resources.pids = pids;

    let healthcheck: StackHealthcheck | null | undefined;
    const hc = svc.healthcheck;
    if (hc?.disable || hc?.test?.[0] === 'NONE') healthcheck = null;
    else if (hc?.test) {
      healthcheck = {
        test: hc.test,
        intervalMs: ms(hc.interval, 30_000),
        timeoutMs: ms(hc.timeout, 30_000),
        retries: hc.retries ?? 3,
        startPeriodMs: ms(hc.start_period, 0),
        startIntervalMs: ms(hc.start_interval, 5_000),
      };
    } else if (hc) {
      warn(
        `${at}.healthcheck`,
        "a healthcheck without test keeps the image's HEALTHCHECK; its timings here are ignored",
      );
    }

    const dependsOn: StackDependency[] = Object.entries(svc.depends_on ?? {}).map(([dep, d]) => ({
      service: dep,
      condition: d.condition,
      required: d.required,
      restart: d.restart ?? false,
    }));
    for (const d of dependsOn) {
      const target = project.services[d.service];
      if (
        d.condition === 'service_healthy' &&
        target?.healthcheck &&
        (target.healthcheck.disable || target.healthcheck.test?.[0] === 'NONE')
      ) {
        fail(
          `${at}.depends_on.${d.service}`,
          `waits for ${d.service} to be healthy, but ${d.service} disables its healthcheck`,
        );
      }
    }

    let build: StackBuild | undefined;
    const image = svc.image ?? `${project.name}-${name}`;
    if (svc.build) {
      const b = svc.build;
      const args: Record<string, string> = {};
      for (const [k, v] of Object.entries(b.args ?? {})) if (v !== null) args[k] = v;
      build = {
        context: b.context,
        args,
        labels: b.labels ?? {},
        cacheFrom: b.cache_from ?? [],
        noCache: !!b.no_cache,
        tag: image,
      };
      if (b.dockerfile !== undefined) build.dockerfile = b.dockerfile;
      if (b.dockerfile_inline !== undefined) build.dockerfileInline = b.dockerfile_inline;
      if (b.target !== undefined) build.target = b.target;
    }

    const ulimits: Record<string, { soft: number; hard: number }> = {};
    for (const [k, u] of Object.entries(svc.ulimits ?? {})) ulimits[k] = ulimit(u);

    const out: StackService = {
      name,
      image,
      pullPolicy: svc.pull_policy ?? (svc.build && !svc.image ? 'build' : 'missing'),
      env,
      hostname: svc.hostname ?? name,
      ports,
      expose: svc.expose ?? [],
      mounts,
      files,
      networks,
      extraHosts: svc.extra_hosts ?? {},
      dns: svc.dns ?? [],
      dnsSearch: svc.dns_search ?? [],
      resources,
      restart: restartPolicy(svc),
      dependsOn,
      replicas: svc.deploy?.replicas ?? svc.scale ?? 1,
      stopSignal: svc.stop_signal ?? 'SIGTERM',
      stopGracePeriodMs: ms(svc.stop_grace_period, 10_000),
      init: !!svc.init,
      readOnlyRootfs: !!svc.read_only,
      tty: !!svc.tty,
      stdinOpen: !!svc.stdin_open,
      privileged: !!svc.privileged,
      labels: { ...svc.labels },
      sysctls: { ...svc.sysctls },
      ulimits,
    };
    if (build) out.build = build;
    if (healthcheck !== undefined) out.healthcheck = healthcheck;
    if (svc.entrypoint != null) out.entrypoint = svc.entrypoint;
    if (svc.command != null) out.command = svc.command;
    if (svc.working_dir !== undefined) out.workingDir = svc.working_dir;
    if (svc.user !== undefined) out.user = svc.user;
    if (svc.domainname !== undefined) out.domainname = svc.domainname;
    if (svc.container_name !== undefined) out.containerName = svc.container_name;
    if (svc.platform !== undefined) out.platform = svc.platform;
    if (out.replicas > 1 && svc.container_name) {
      fail(`${at}.container_name`, `container_name ${svc.container_name} cannot be shared by ${out.replicas} replicas`);
    }
    if (out.replicas > 1 && ports.some((p) => p.hostPort !== undefined && p.hostPortEnd === undefined)) {
      warn(`${at}.ports`, `${out.replicas} replicas cannot all publish the same host port; only the first will`);
    }
    services[name] = out;
  }

  const networks: Record<string, StackNetwork> = {};
  for (const [key, n] of Object.entries(project.networks)) {
    if (n.driver && n.driver !== 'bridge') {
      warnings.push({
        path: `networks.${key}.driver`,
        message: `network driver ${n.driver} is not supported; HYPR makes a bridge`,
      });
    }
    networks[key] = {
      key,
      name: n.name,
      external: !!n.external,
      internal: !!n.internal,
      driver: 'bridge',
      subnets: (n.ipam?.config ?? []).map((c) => c.subnet).filter((s): s is string => !!s),
    };
  }
  const volumes: Record<string, StackVolume> = {};
  for (const [key, v] of Object.entries(project.volumes)) {
    if (v.driver && v.driver !== 'local') {
      warnings.push({
        path: `volumes.${key}.driver`,
        message: `volume driver ${v.driver} is not supported; HYPR makes a local volume`,
      });
    }
    volumes[key] = { key, name: v.name, external: !!v.external, driver: 'local', labels: v.labels ?? {} };
  }
  if (errors.length > 0) throw new ComposeUnsupportedError(errors);
  return { name: project.name, services, startOrder: computeStartOrder(project.services), networks, volumes, warnings };
}
