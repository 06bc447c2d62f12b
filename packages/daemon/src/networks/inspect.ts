/** docker's inspect documents for networks and for a container's network settings (output formats, JSON). */
import { type Lease, type NetworkRecord, type PublishedPort, tapNameFor } from '@hypr/core';
import { type Attachment, type ContainerRef, DEFAULT_NETWORK } from './attachments.js';

/** What renderNetworkSettings reads about one container. */
export interface ContainerNetworkFacts {
  ref: ContainerRef;
  attachments: readonly Attachment[];
  leases: readonly Lease[];
  ports: readonly PublishedPort[];
  network(name: string): NetworkRecord | undefined;
}

/** docker inspect's NetworkSettings and HostConfig.NetworkMode for a container. */
export function renderNetworkSettings(f: ContainerNetworkFacts): {
  NetworkMode: string;
  NetworkSettings: Record<string, unknown>;
} {
  const { ref } = f;
  const ports: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const e of ref.exposedPorts) ports[e.includes('/') ? e : `${e}/tcp`] = null;
  for (const p of f.ports)
    (ports[`${p.containerPort}/${p.protocol}`] ??= [])?.push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
  const networks: Record<string, unknown> = {};
  for (const a of f.attachments) {
    const n = f.network(a.network === 'default' ? DEFAULT_NETWORK : a.network);
    const lease = n && f.leases.find((l) => l.networkId === n.id);
    networks[n?.name ?? a.network] = {
      Aliases: a.aliases.length ? a.aliases : null,
      NetworkID: n?.id ?? '',
      EndpointID: lease ? tapNameFor(ref.id, lease.networkId) : '',
      Gateway: lease ? (n?.gateway ?? '') : '',
      IPAddress: lease?.address ?? '',
      IPPrefixLen: lease?.prefix ?? 0,
      MacAddress: lease?.mac ?? '',
      DNSNames: [ref.name, ref.id.slice(0, 12), ...a.aliases],
    };
  }
  const first = Object.values(networks)[0] as { IPAddress?: string; Gateway?: string; MacAddress?: string } | undefined;
  const mode = f.attachments[0]?.network ?? 'none';
  return {
    NetworkMode: mode === DEFAULT_NETWORK ? 'bridge' : mode,
    NetworkSettings: {
      Bridge: '',
      Ports: ports,
      IPAddress: first?.IPAddress ?? '',
      Gateway: first?.Gateway ?? '',
      MacAddress: first?.MacAddress ?? '',
      Networks: networks,
    },
  };
}

/** docker's `network inspect` document. */
export function renderNetworkInspect(
  n: NetworkRecord,
  users: readonly { id: string; name: string; lease?: Lease }[],
): Record<string, unknown> {
  const ctrs: Record<string, unknown> = {};
  for (const u of users) {
    if (!u.lease) continue;
    ctrs[u.id] = {
      Name: u.name,
      EndpointID: tapNameFor(u.id, n.id),
      MacAddress: u.lease.mac,
      IPv4Address: `${u.lease.address}/${u.lease.prefix}`,
      IPv6Address: '',
    };
  }
  return {
    Name: n.name,
    Id: n.id,
    Created: new Date(n.createdAt).toISOString(),
    Scope: 'local',
    Driver: n.driver,
    EnableIPv6: false,
    IPAM: {
      Driver: 'default',
      Options: {},
      Config: [{ Subnet: n.subnet, Gateway: n.gateway, ...(n.ipRange ? { IPRange: n.ipRange } : {}) }],
    },
    Internal: n.internal,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: ctrs,
    Options: { 'com.docker.network.bridge.name': n.bridge },
    Labels: n.labels,
  };
}
