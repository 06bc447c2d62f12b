// NetworkService: decode, call the network manager, encode; plus the networking parts of the
// container messages (create options, inspect document, ps ports).
import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  type ContainerNetworking,
  type ContainerSummary,
  type NetworkService,
  type NetworkSummary,
  NetworkSummarySchema,
} from '@hypr/api';
import { HyprError, type NetworkRecord } from '@hypr/core';
import type { Orchestrator } from '../containers/index.js';
import { type ContainerNetworkOptions, type NetworkManager, networkMatches } from '../networks/index.js';

export function toNetworkOptions(n: ContainerNetworking): ContainerNetworkOptions {
  return {
    ...(n.network ? { network: n.network } : {}),
    ...(n.aliases.length ? { aliases: n.aliases } : {}),
    ...(n.ip ? { ip: n.ip } : {}),
    ...(n.publishAll ? { publishAll: true } : {}),
  };
}

/** `ps` PORTS: the ports a running container published. */
export function withPorts(o: Orchestrator, s: ContainerSummary): ContainerSummary {
  if (o.network) s.ports = o.network.portsColumn(s.id);
  return s;
}

/** docker inspect's NetworkSettings (and HostConfig.NetworkMode) filled from the network manager. */
export function withNetworkInspect(o: Orchestrator, doc: Record<string, unknown>): Record<string, unknown> {
  const ref = o.network?.ref(String(doc.Id));
  if (!o.network || !ref) return doc;
  const { NetworkMode, NetworkSettings } = o.network.inspectSettings(ref);
  const host = (doc.HostConfig ?? {}) as Record<string, unknown>;
  return { ...doc, HostConfig: { ...host, NetworkMode }, NetworkSettings };
}

function summary(m: NetworkManager, n: NetworkRecord): NetworkSummary {
  return create(NetworkSummarySchema, {
    id: n.id,
    name: n.name,
    driver: n.driver,
    subnet: n.subnet,
    gateway: n.gateway,
    ipRange: n.ipRange ?? '',
    internal: n.internal,
    labels: n.labels,
    createdAt: BigInt(n.createdAt),
    containers: m.users(n).map((u) => u.name),
    bridge: n.bridge,
  });
}

export function createNetworkService(m: NetworkManager, o: Orchestrator): ServiceImpl<typeof NetworkService> {
  const container = (text: string) => {
    const row = o.resolve(text);
    const ref = m.ref(row.id);
    if (!ref) throw new HyprError('CONTAINER_NOT_FOUND', `No such container: ${text}`);
    return { ref, running: row.state === 'running' || row.state === 'restarting' };
  };
  return {
    async create(req) {
      const n = await m.createNetwork({
        name: req.name,
        subnet: req.subnet || undefined,
        gateway: req.gateway || undefined,
        ipRange: req.ipRange || undefined,
        internal: req.internal,
        labels: req.labels,
        driver: req.driver || undefined,
      });
      return { id: n.id };
    },
    async list(req) {
      return {
        networks: m
          .list()
          .filter((n) => networkMatches(n, req.filters))
          .map((n) => summary(m, n)),
      };
    },
    async inspect(req) {
      const n = m.get(req.id);
      return { json: JSON.stringify(m.inspectNetwork(n)), summary: summary(m, n) };
    },
    async remove(req) {
      const n = await m.removeNetwork(req.id);
      return { id: n.id, name: n.name };
    },
    async connect(req) {
      const c = container(req.container);
      await m.connect(c.ref, c.running, req.network, { aliases: req.aliases, ip: req.ip || undefined });
      return {};
    },
    async disconnect(req) {
      const c = container(req.container);
      await m.disconnect(c.ref, c.running, req.network);
      return {};
    },
    async prune() {
      return { deleted: await m.prune() };
    },
  };
}
