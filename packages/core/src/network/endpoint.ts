import { deleteBridge, ensureBridge } from './bridge.js';
/**
 * The steps the daemon takes, composed from the primitives: bring a network's bridge and rules up
 * (and down), and connect a container to it (lease + TAP → what the VM needs) or disconnect it.
 * Each step undoes its own partial work when it fails, so no lease or device is left behind.
 */
import { type NetnsOptions, deviceError } from './host-command.js';
import type { Ipam, NetworkRecord } from './ipam.js';
import { applyNetworkRules, removeNetworkRules } from './nat.js';
import { createTap, deleteTap, tapNameFor } from './tap.js';

/** One NIC of a VM, in the shape `bootGuestVm({ nics, dns })` takes. */
export interface Endpoint {
  networkId: string;
  containerId: string;
  tap: string;
  mac: string;
  /** `10.88.0.5/16` */
  address: string;
  /** The address alone, for DNS records and the port proxy's target. */
  ip: string;
  gateway: string;
  /** Nameservers for the guest: the network's gateway, where its DNS server listens. */
  dns: string[];
}

/** Creates (or repairs) the network's bridge and its NAT/isolation rules. */
export async function bringUpNetwork(
  network: NetworkRecord,
  opts: NetnsOptions & { mtu?: number } = {},
): Promise<void> {
  await ensureBridge({ ...opts, name: network.bridge, gateway: network.gateway, subnet: network.subnet });
  try {
    await applyNetworkRules(network, opts);
  } catch (e) {
    await deleteBridge(network.bridge, opts).catch(() => {});
    throw e;
  }
}

/** Removes the network's rules and bridge (the TAPs still on it go with it). Safe to repeat. */
export async function tearDownNetwork(network: NetworkRecord, opts: NetnsOptions = {}): Promise<void> {
  await removeNetworkRules(network, opts);
  await deleteBridge(network.bridge, opts);
}

/**
 * Leases an address (static when `address` is given) and creates the container's TAP on the
 * network's bridge. The lease is released again when the TAP cannot be made.
 */
export async function connectEndpoint(
  ipam: Ipam,
  networkIdOrName: string,
  opts: NetnsOptions & { containerId: string; address?: string; mtu?: number },
): Promise<Endpoint> {
  const network = ipam.requireNetwork(networkIdOrName);
  const lease = ipam.allocate(network.id, { containerId: opts.containerId, address: opts.address });
  const tap = tapNameFor(opts.containerId, network.id);
  try {
    await createTap({ name: tap, bridge: network.bridge, netns: opts.netns, mtu: opts.mtu, signal: opts.signal });
  } catch (e) {
    ipam.release(network.id, lease.address);
    throw e;
  }
  return {
    networkId: network.id,
    containerId: opts.containerId,
    tap,
    mac: lease.mac,
    address: `${lease.address}/${lease.prefix}`,
    ip: lease.address,
    gateway: network.gateway,
    dns: [network.gateway],
  };
}

/**
 * The endpoint of a container that already holds a lease (after a daemon restart): recreates the
 * TAP if it is missing and returns the same address and MAC.
 */
export async function restoreEndpoint(
  ipam: Ipam,
  networkIdOrName: string,
  opts: NetnsOptions & { containerId: string; mtu?: number },
): Promise<Endpoint | undefined> {
  const network = ipam.requireNetwork(networkIdOrName);
  const lease = ipam.leasesOfContainer(opts.containerId).find((l) => l.networkId === network.id);
  if (!lease) return undefined;
  const tap = tapNameFor(opts.containerId, network.id);
  await createTap({ name: tap, bridge: network.bridge, netns: opts.netns, mtu: opts.mtu, signal: opts.signal });
  return {
    networkId: network.id,
    containerId: opts.containerId,
    tap,
    mac: lease.mac,
    address: `${lease.address}/${lease.prefix}`,
    ip: lease.address,
    gateway: network.gateway,
    dns: [network.gateway],
  };
}

/** Deletes the container's TAP on the network and releases its address. Safe to repeat. */
export async function disconnectEndpoint(
  ipam: Ipam,
  networkId: string,
  opts: NetnsOptions & { containerId: string },
): Promise<void> {
  try {
    await deleteTap(tapNameFor(opts.containerId, networkId), opts);
  } catch (e) {
    throw deviceError('NETWORK_TAP_FAILED', `cannot disconnect container ${opts.containerId}`, e);
  } finally {
    for (const l of ipam.leasesOfContainer(opts.containerId))
      if (l.networkId === networkId) ipam.release(networkId, l.address);
  }
}
