/**
 * The stack @hypr/core's convertToStack made, as the API carries it (hypr.v1.StackSpec): one field
 * for each, enums for the closed sets, presence kept where absence means something (entrypoint,
 * command, healthcheck). hyprd turns it back (daemon/src/stacks/spec-proto.ts) and checks it.
 */
import { create } from '@bufbuild/protobuf';
import {
  type StackMount as MountMessage,
  type StackServiceSpec as ServiceMessage,
  type StackSpec as SpecMessage,
  StackDependencyCondition,
  StackFileKind,
  StackMountSchema,
  StackPortProtocol,
  StackRestart,
  StackServiceSpecSchema,
  StackSpecSchema,
} from '@hypr/api';
import type { StackMount, StackService, StackSpec } from '@hypr/core/compose';

const RESTART: Record<StackService['restart']['policy'], StackRestart> = {
  no: StackRestart.NO,
  always: StackRestart.ALWAYS,
  'on-failure': StackRestart.ON_FAILURE,
  'unless-stopped': StackRestart.UNLESS_STOPPED,
};

const CONDITION: Record<StackService['dependsOn'][number]['condition'], StackDependencyCondition> = {
  service_started: StackDependencyCondition.SERVICE_STARTED,
  service_healthy: StackDependencyCondition.SERVICE_HEALTHY,
  service_completed_successfully: StackDependencyCondition.SERVICE_COMPLETED_SUCCESSFULLY,
};

export function stackSpecToProto(spec: StackSpec): SpecMessage {
  return create(StackSpecSchema, {
    name: spec.name,
    services: Object.fromEntries(Object.entries(spec.services).map(([k, s]) => [k, serviceToProto(s)])),
    startOrder: spec.startOrder.map((services) => ({ services })),
    networks: Object.fromEntries(
      Object.entries(spec.networks).map(([k, n]) => [
        k,
        { name: n.name, external: n.external, internal: n.internal, driver: n.driver, subnets: n.subnets },
      ]),
    ),
    volumes: Object.fromEntries(
      Object.entries(spec.volumes).map(([k, v]) => [
        k,
        { name: v.name, external: v.external, driver: v.driver, labels: v.labels },
      ]),
    ),
    warnings: spec.warnings,
  });
}

function serviceToProto(s: StackService): ServiceMessage {
  const hc = s.healthcheck;
  return create(StackServiceSpecSchema, {
    ...s,
    build: s.build,
    entrypoint: s.entrypoint && { words: s.entrypoint },
    command: s.command && { words: s.command },
    ports: s.ports.map((p) => ({
      ...p,
      protocol: p.protocol === 'udp' ? StackPortProtocol.UDP : StackPortProtocol.TCP,
    })),
    mounts: s.mounts.map(mountToProto),
    files: s.files.map((f) => ({ ...f, kind: f.kind === 'secret' ? StackFileKind.SECRET : StackFileKind.CONFIG })),
    extraHosts: Object.fromEntries(Object.entries(s.extraHosts).map(([h, addresses]) => [h, { addresses }])),
    resources: {
      cpus: s.resources.cpus,
      memoryMib: s.resources.memoryMiB,
      reservedCpus: s.resources.reservedCpus,
      reservedMemoryMib: s.resources.reservedMemoryMiB,
      pids: s.resources.pids,
    },
    health:
      hc === null
        ? { case: 'healthcheckDisabled', value: true }
        : hc
          ? {
              case: 'healthcheck',
              value: {
                ...hc,
                intervalMs: BigInt(hc.intervalMs),
                timeoutMs: BigInt(hc.timeoutMs),
                startPeriodMs: BigInt(hc.startPeriodMs),
                startIntervalMs: BigInt(hc.startIntervalMs),
              },
            }
          : { case: undefined },
    restart: { policy: RESTART[s.restart.policy], maxRetries: s.restart.maxRetries },
    dependsOn: s.dependsOn.map((d) => ({ ...d, condition: CONDITION[d.condition] })),
    stopGracePeriodMs: BigInt(s.stopGracePeriodMs),
    ulimits: Object.fromEntries(
      Object.entries(s.ulimits).map(([k, u]) => [k, { soft: BigInt(u.soft), hard: BigInt(u.hard) }]),
    ),
  });
}

function mountToProto(m: StackMount): MountMessage {
  switch (m.type) {
    case 'bind':
      return create(StackMountSchema, { type: { case: 'bind', value: m } });
    case 'volume':
      return create(StackMountSchema, { type: { case: 'volume', value: m } });
    case 'tmpfs': {
      const sizeBytes = m.sizeBytes === undefined ? undefined : BigInt(m.sizeBytes);
      return create(StackMountSchema, { type: { case: 'tmpfs', value: { ...m, sizeBytes } } });
    }
  }
}
