/**
 * The stack as it crosses the API (hypr.v1.StackSpec) back to @hypr/core's StackSpec. The request
 * comes from any client, so every field hyprd relies on is checked here, once: a bad one is an
 * INVALID_ARGUMENT naming it by its path in the message (`services[web].mounts[0].target`), never a
 * TypeError deep in the orchestrator. Names that become paths on the host are checked too.
 */
import {
  type StackBuild as BuildMessage,
  type StackDependency as DependencyMessage,
  type StackFile as FileMessage,
  type StackHealthcheck as HealthcheckMessage,
  type StackMount as MountMessage,
  type StackPort as PortMessage,
  type StackServiceSpec as ServiceMessage,
  type StackSpec as SpecMessage,
  StackDependencyCondition,
  StackFileKind,
  StackPortProtocol,
  StackRestart,
} from '@hypr/api';
import { HyprError } from '@hypr/core';
import type {
  StackBuild,
  StackDependency,
  StackFile,
  StackHealthcheck,
  StackMount,
  StackNetwork,
  StackPort,
  StackRestartPolicy,
  StackService,
  StackSpec,
  StackVolume,
} from '@hypr/core/compose';

/** docker compose's project names; the name is also a folder under hyprd's stacks directory. */
const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]*$/;
const SERVICE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/;
/** A secret's or config's file name under the stack's directory: one path segment. */
const FILE_NAME = /^(?!\.\.?$)[^/\0]+$/;

export function invalidSpec(path: string, what: string): HyprError {
  return new HyprError(
    'INVALID_ARGUMENT',
    `invalid stack spec: ${path} ${what}`,
    'send the stack as hypr compose converts it; a CLI and hyprd of different versions may disagree',
  );
}

function check(ok: boolean, path: string, what: string): void {
  if (!ok) throw invalidSpec(path, what);
}

function required<T>(v: T | undefined, path: string): T {
  if (v === undefined) throw invalidSpec(path, 'is missing');
  return v;
}

function nonEmpty(v: string, path: string): string {
  check(v !== '', path, 'is empty');
  return v;
}

function absolutePath(v: string, path: string): string {
  check(v.startsWith('/'), path, `must be an absolute path, not "${v}"`);
  return v;
}

/** A 64-bit integer of the message as a JS number, refused when out of range. */
function int(v: bigint, path: string, min = 0n): number {
  check(v >= min && v <= BigInt(Number.MAX_SAFE_INTEGER), path, `is out of range: ${v}`);
  return Number(v);
}

/** Copies only the keys whose value is set, so the decoded spec equals what convertToStack made. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The spec of a request: `path` names the field (`spec`), missing when the request has none. */
export function stackSpecFromProto(msg: SpecMessage | undefined, path = 'spec'): StackSpec {
  const m = required(msg, path);
  check(
    PROJECT_NAME.test(m.name),
    'name',
    `"${m.name}" is not a valid project name (lowercase letters, digits, - and _)`,
  );
  const services: Record<string, StackService> = {};
  for (const [name, s] of Object.entries(m.services)) services[name] = serviceFromProto(name, s);
  for (const svc of Object.values(services))
    svc.dependsOn.forEach((d, i) =>
      check(!!services[d.service], `services[${svc.name}].depends_on[${i}].service`, `names no service: ${d.service}`),
    );
  const startOrder = m.startOrder.map((g) => g.services);
  checkStartOrder(startOrder, services);
  const networks: Record<string, StackNetwork> = {};
  for (const [key, n] of Object.entries(m.networks)) {
    const { external, internal, driver } = n;
    const name = nonEmpty(n.name, `networks[${key}].name`);
    networks[key] = { key, name, external, internal, driver, subnets: [...n.subnets] };
  }
  const volumes: Record<string, StackVolume> = {};
  for (const [key, v] of Object.entries(m.volumes)) {
    const name = nonEmpty(v.name, `volumes[${key}].name`);
    volumes[key] = { key, name, external: v.external, driver: v.driver, labels: { ...v.labels } };
  }
  const warnings = m.warnings.map((w) => defined({ service: w.service, path: w.path, message: w.message }));
  return { name: m.name, services, startOrder, networks, volumes, warnings };
}

/** Every service once, every name a service. */
function checkStartOrder(order: string[][], services: Record<string, StackService>): void {
  const seen = new Set<string>();
  order.forEach((group, i) =>
    group.forEach((s, j) => {
      check(!!services[s], `start_order[${i}].services[${j}]`, `names no service: ${s}`);
      check(!seen.has(s), `start_order[${i}].services[${j}]`, `lists ${s} twice`);
      seen.add(s);
    }),
  );
  for (const s of Object.keys(services)) check(seen.has(s), 'start_order', `lacks service ${s}`);
}

function serviceFromProto(name: string, s: ServiceMessage): StackService {
  const at = `services[${name}]`;
  check(SERVICE_NAME.test(name), at, 'is not a valid service name');
  const restart = required(s.restart, `${at}.restart`);
  check(s.replicas >= 0, `${at}.replicas`, `is negative: ${s.replicas}`);
  const svc: StackService = {
    name,
    image: nonEmpty(s.image, `${at}.image`),
    pullPolicy: s.pullPolicy,
    env: { ...s.env },
    hostname: s.hostname,
    ports: s.ports.map((p, i) => portFromProto(p, `${at}.ports[${i}]`)),
    expose: [...s.expose],
    mounts: s.mounts.map((m, i) => mountFromProto(m, `${at}.mounts[${i}]`)),
    files: s.files.map((f, i) => fileFromProto(f, `${at}.files[${i}]`)),
    networks: s.networks.map((n, i) =>
      defined({
        network: nonEmpty(n.network, `${at}.networks[${i}].network`),
        name: nonEmpty(n.name, `${at}.networks[${i}].name`),
        aliases: [...n.aliases],
        ipv4Address: n.ipv4Address,
        ipv6Address: n.ipv6Address,
        macAddress: n.macAddress,
      }),
    ),
    extraHosts: Object.fromEntries(Object.entries(s.extraHosts).map(([h, a]) => [h, [...a.addresses]])),
    dns: [...s.dns],
    dnsSearch: [...s.dnsSearch],
    resources: defined({
      cpus: s.resources?.cpus,
      memoryMiB: s.resources?.memoryMib,
      reservedCpus: s.resources?.reservedCpus,
      reservedMemoryMiB: s.resources?.reservedMemoryMib,
      pids: s.resources?.pids,
    }),
    restart: restartFromProto(restart.policy, restart.maxRetries, `${at}.restart`),
    dependsOn: s.dependsOn.map((d, i) => dependencyFromProto(d, `${at}.depends_on[${i}]`)),
    replicas: s.replicas,
    stopSignal: nonEmpty(s.stopSignal, `${at}.stop_signal`),
    stopGracePeriodMs: int(s.stopGracePeriodMs, `${at}.stop_grace_period_ms`),
    init: s.init,
    readOnlyRootfs: s.readOnlyRootfs,
    tty: s.tty,
    stdinOpen: s.stdinOpen,
    privileged: s.privileged,
    labels: { ...s.labels },
    sysctls: { ...s.sysctls },
    ulimits: Object.fromEntries(
      Object.entries(s.ulimits).map(([k, u]) => [
        k,
        { soft: int(u.soft, `${at}.ulimits[${k}].soft`, -1n), hard: int(u.hard, `${at}.ulimits[${k}].hard`, -1n) },
      ]),
    ),
  };
  return defined({ ...svc, ...optionalServiceFields(s, at) });
}

function optionalServiceFields(s: ServiceMessage, at: string): Partial<StackService> {
  const health = s.health;
  return {
    build: s.build && buildFromProto(s.build, `${at}.build`),
    entrypoint: s.entrypoint && [...s.entrypoint.words],
    command: s.command && [...s.command.words],
    workingDir: s.workingDir,
    user: s.user,
    domainname: s.domainname,
    healthcheck:
      health.case === 'healthcheck'
        ? healthcheckFromProto(health.value, `${at}.healthcheck`)
        : health.case === 'healthcheckDisabled' && health.value
          ? null
          : undefined,
    containerName: s.containerName,
    platform: s.platform,
  };
}

function buildFromProto(b: BuildMessage, at: string): StackBuild {
  return defined({
    context: nonEmpty(b.context, `${at}.context`),
    dockerfile: b.dockerfile,
    dockerfileInline: b.dockerfileInline,
    args: { ...b.args },
    target: b.target,
    labels: { ...b.labels },
    cacheFrom: [...b.cacheFrom],
    noCache: b.noCache,
    tag: nonEmpty(b.tag, `${at}.tag`),
  });
}

function portFromProto(p: PortMessage, at: string): StackPort {
  const protocol =
    p.protocol === StackPortProtocol.TCP ? 'tcp' : p.protocol === StackPortProtocol.UDP ? 'udp' : undefined;
  check(!!protocol, `${at}.protocol`, 'must be TCP or UDP');
  check(
    p.containerPort >= 1 && p.containerPort <= 65535,
    `${at}.container_port`,
    `is out of range: ${p.containerPort}`,
  );
  if (p.hostPort !== undefined) check(p.hostPort <= 65535, `${at}.host_port`, `is out of range: ${p.hostPort}`);
  if (p.hostPortEnd !== undefined)
    check(
      p.hostPort !== undefined && p.hostPortEnd >= p.hostPort && p.hostPortEnd <= 65535,
      `${at}.host_port_end`,
      `is not the end of a range starting at host_port: ${p.hostPortEnd}`,
    );
  return defined({
    hostIp: p.hostIp,
    hostPort: p.hostPort,
    hostPortEnd: p.hostPortEnd,
    containerPort: p.containerPort,
    protocol: protocol as StackPort['protocol'],
  });
}

function mountFromProto(m: MountMessage, at: string): StackMount {
  const t = m.type;
  switch (t.case) {
    case 'bind': {
      const { source, target, readOnly, createHostPath } = t.value;
      absolutePath(source, `${at}.bind.source`);
      absolutePath(target, `${at}.bind.target`);
      return { type: 'bind', source, target, readOnly, createHostPath };
    }
    case 'volume': {
      const { source, target, readOnly, subpath, noCopy } = t.value;
      if (source !== undefined) nonEmpty(source, `${at}.volume.source`);
      absolutePath(target, `${at}.volume.target`);
      return defined({ type: 'volume', source, target, readOnly, subpath, noCopy });
    }
    case 'tmpfs': {
      const { target, sizeBytes, mode } = t.value;
      absolutePath(target, `${at}.tmpfs.target`);
      const size = sizeBytes === undefined ? undefined : int(sizeBytes, `${at}.tmpfs.size_bytes`);
      return defined({ type: 'tmpfs', target, sizeBytes: size, mode });
    }
    default:
      throw invalidSpec(`${at}.type`, 'is not set (bind, volume or tmpfs)');
  }
}

function fileFromProto(f: FileMessage, at: string): StackFile {
  const kind = f.kind === StackFileKind.SECRET ? 'secret' : f.kind === StackFileKind.CONFIG ? 'config' : undefined;
  check(!!kind, `${at}.kind`, 'must be SECRET or CONFIG');
  check(FILE_NAME.test(f.name), `${at}.name`, `is not a file name: "${f.name}"`);
  check(f.sourceFile !== undefined || f.content !== undefined, at, 'has neither source_file nor content');
  return defined({
    kind: kind as StackFile['kind'],
    name: f.name,
    target: nonEmpty(f.target, `${at}.target`),
    sourceFile: f.sourceFile,
    content: f.content,
    uid: f.uid,
    gid: f.gid,
    mode: f.mode,
  });
}

function healthcheckFromProto(h: HealthcheckMessage, at: string): StackHealthcheck {
  check(h.test.length > 0, `${at}.test`, 'is empty');
  return {
    test: [...h.test],
    intervalMs: int(h.intervalMs, `${at}.interval_ms`),
    timeoutMs: int(h.timeoutMs, `${at}.timeout_ms`),
    retries: h.retries,
    startPeriodMs: int(h.startPeriodMs, `${at}.start_period_ms`),
    startIntervalMs: int(h.startIntervalMs, `${at}.start_interval_ms`),
  };
}

const RESTART: Record<number, StackRestartPolicy['policy']> = {
  [StackRestart.NO]: 'no',
  [StackRestart.ALWAYS]: 'always',
  [StackRestart.ON_FAILURE]: 'on-failure',
  [StackRestart.UNLESS_STOPPED]: 'unless-stopped',
};

function restartFromProto(policy: StackRestart, maxRetries: number | undefined, at: string): StackRestartPolicy {
  const p = RESTART[policy];
  check(!!p, `${at}.policy`, 'must be NO, ALWAYS, ON_FAILURE or UNLESS_STOPPED');
  if (maxRetries !== undefined) check(maxRetries >= 0, `${at}.max_retries`, `is negative: ${maxRetries}`);
  return defined({ policy: p, maxRetries });
}

const CONDITION: Record<number, StackDependency['condition']> = {
  [StackDependencyCondition.SERVICE_STARTED]: 'service_started',
  [StackDependencyCondition.SERVICE_HEALTHY]: 'service_healthy',
  [StackDependencyCondition.SERVICE_COMPLETED_SUCCESSFULLY]: 'service_completed_successfully',
};

function dependencyFromProto(d: DependencyMessage, at: string): StackDependency {
  const condition = CONDITION[d.condition];
  check(!!condition, `${at}.condition`, 'must be SERVICE_STARTED, SERVICE_HEALTHY or SERVICE_COMPLETED_SUCCESSFULLY');
  return { service: nonEmpty(d.service, `${at}.service`), condition, required: d.required, restart: d.restart };
}
