/**
 * One service of a loaded project as the VM HYPR runs: each part of StackService from its compose
 * keys. convert.ts calls convertService for every service and assembles the stack.
 */
import type {
  StackBuild,
  StackDependency,
  StackFile,
  StackHealthcheck,
  StackMount,
  StackNetworkAttachment,
  StackPort,
  StackResources,
  StackRestartPolicy,
  StackService,
} from './stack-types.js';
import type { ComposeFileObject, ComposeProject, ComposeService, ComposeUlimit } from './types.js';
import { parseBytes, parseDurationNs } from './units.js';

type Note = (path: string, message: string) => void;

const MiB = 1024 * 1024;

function ms(duration: string | undefined, fallback: number): number {
  if (duration === undefined) return fallback;
  return Math.round((parseDurationNs(duration) ?? fallback * 1e6) / 1e6);
}

function memoryMiB(bytes: number | undefined): number | undefined {
  return bytes === undefined ? undefined : Math.ceil(bytes / MiB);
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

function convertPorts(svc: ComposeService): StackPort[] {
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
  return ports;
}

function convertMounts(svc: ComposeService, project: ComposeProject): StackMount[] {
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
  return mounts;
}

/** A secret or config as a file in the guest: its target, and its content or the host file to copy. */
function fileObject(
  kind: 'secret' | 'config',
  ref: { source: string; target?: string; uid?: string; gid?: string; mode?: number },
  obj: ComposeFileObject,
  project: ComposeProject,
  fail: Note,
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

function convertFiles(name: string, svc: ComposeService, project: ComposeProject, fail: Note): StackFile[] {
  const files: StackFile[] = [];
  svc.secrets?.forEach((s, i) => {
    const obj = project.secrets[s.source];
    if (obj) files.push(fileObject('secret', s, obj, project, fail, `services.${name}.secrets[${i}]`));
  });
  svc.configs?.forEach((c, i) => {
    const obj = project.configs[c.source];
    if (obj) files.push(fileObject('config', c, obj, project, fail, `services.${name}.configs[${i}]`));
  });
  return files;
}

function convertNetworks(name: string, svc: ComposeService, project: ComposeProject): StackNetworkAttachment[] {
  const networks: StackNetworkAttachment[] = [];
  if (svc.network_mode === 'none') return networks;
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
  return networks;
}

function convertResources(svc: ComposeService): StackResources {
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
  return resources;
}

/** undefined: the image's HEALTHCHECK applies; null: disabled. */
function convertHealthcheck(name: string, svc: ComposeService, warn: Note): StackHealthcheck | null | undefined {
  const hc = svc.healthcheck;
  if (hc?.disable || hc?.test?.[0] === 'NONE') return null;
  if (hc?.test) {
    return {
      test: hc.test,
      intervalMs: ms(hc.interval, 30_000),
      timeoutMs: ms(hc.timeout, 30_000),
      retries: hc.retries ?? 3,
      startPeriodMs: ms(hc.start_period, 0),
      startIntervalMs: ms(hc.start_interval, 5_000),
    };
  }
  if (hc) {
    warn(
      `services.${name}.healthcheck`,
      "a healthcheck without test keeps the image's HEALTHCHECK; its timings here are ignored",
    );
  }
  return undefined;
}

function convertDependencies(name: string, svc: ComposeService, project: ComposeProject, fail: Note) {
  const dependsOn: StackDependency[] = Object.entries(svc.depends_on ?? {}).map(([dep, d]) => ({
    service: dep,
    condition: d.condition,
    required: d.required,
    restart: d.restart ?? false,
  }));
  for (const d of dependsOn) {
    const target = project.services[d.service];
    const disabled = target?.healthcheck && (target.healthcheck.disable || target.healthcheck.test?.[0] === 'NONE');
    if (d.condition === 'service_healthy' && disabled) {
      fail(
        `services.${name}.depends_on.${d.service}`,
        `waits for ${d.service} to be healthy, but ${d.service} disables its healthcheck`,
      );
    }
  }
  return dependsOn;
}

function convertBuild(svc: ComposeService, image: string): StackBuild | undefined {
  if (!svc.build) return undefined;
  const b = svc.build;
  const args: Record<string, string> = {};
  for (const [k, v] of Object.entries(b.args ?? {})) if (v !== null) args[k] = v;
  const build: StackBuild = {
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
  return build;
}

/** The VM of one service; what it cannot honour goes to `warn` and `fail`. */
export function convertService(
  name: string,
  svc: ComposeService,
  project: ComposeProject,
  warn: Note,
  fail: Note,
): StackService {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.environment ?? {})) if (v !== null) env[k] = v;
  const ports = convertPorts(svc);
  const image = svc.image ?? `${project.name}-${name}`;
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
    mounts: convertMounts(svc, project),
    files: convertFiles(name, svc, project, fail),
    networks: convertNetworks(name, svc, project),
    extraHosts: svc.extra_hosts ?? {},
    dns: svc.dns ?? [],
    dnsSearch: svc.dns_search ?? [],
    resources: convertResources(svc),
    restart: restartPolicy(svc),
    dependsOn: convertDependencies(name, svc, project, fail),
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
  const build = convertBuild(svc, image);
  if (build) out.build = build;
  const healthcheck = convertHealthcheck(name, svc, warn);
  if (healthcheck !== undefined) out.healthcheck = healthcheck;
  if (svc.entrypoint != null) out.entrypoint = svc.entrypoint;
  if (svc.command != null) out.command = svc.command;
  if (svc.working_dir !== undefined) out.workingDir = svc.working_dir;
  if (svc.user !== undefined) out.user = svc.user;
  if (svc.domainname !== undefined) out.domainname = svc.domainname;
  if (svc.container_name !== undefined) out.containerName = svc.container_name;
  if (svc.platform !== undefined) out.platform = svc.platform;
  if (out.replicas > 1 && svc.container_name) {
    fail(
      `services.${name}.container_name`,
      `container_name ${svc.container_name} cannot be shared by ${out.replicas} replicas`,
    );
  }
  if (out.replicas > 1 && ports.some((p) => p.hostPort !== undefined && p.hostPortEnd === undefined)) {
    warn(
      `services.${name}.ports`,
      `${out.replicas} replicas cannot all publish the same host port; only the first will`,
    );
  }
  return out;
}
