/**
 * The checks and choices of `network create`, without the database: the name, the bridge device,
 * the subnet (given, or the first pool subnet that overlaps neither another HYPR network nor a route
 * of the host), the allocation range and the gateway.
 */
import { HyprError } from '../errors.js';
import {
  type Cidr,
  cidrLast,
  cidrSize,
  cidrWithin,
  cidrsOverlap,
  formatCidr,
  formatIpv4,
  parseCidr,
  parseIpv4,
} from './cidr.js';
import { type HostRoute, describeRoute } from './host-routes.js';

/** A block handed out in pieces of `size` bits, as docker's default-address-pools. */
export interface AddressPool {
  base: string;
  size: number;
}

/** Docker's pools, but starting in 10.88/13 (the bridges of a host running Docker stay untouched more often). */
export const DEFAULT_ADDRESS_POOLS: readonly AddressPool[] = [
  { base: '10.88.0.0/13', size: 16 },
  { base: '172.16.0.0/12', size: 16 },
  { base: '192.168.0.0/16', size: 20 },
];

/** What a new network asks for; absent values are chosen. */
export interface NetworkRequest {
  name: string;
  /** CIDR; absent = picked from the pools. */
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  /** Bridge device name (must start `hypr-`, ≤ 15 characters); absent = `hypr-<first 10 of id>`. */
  bridge?: string;
}

/** The addressing of a network as decided: canonical texts, ready to store. */
export interface NetworkPlan {
  subnet: string;
  gateway: string;
  ipRange?: string;
  bridge: string;
}

/** The networks that exist already, as far as planning a new one cares. */
export interface ExistingNetwork {
  name: string;
  subnet: string;
  bridge: string;
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const BRIDGE_RE = /^hypr-[a-zA-Z0-9_.-]{1,10}$/;

export function bridgeNameFor(networkId: string): string {
  return `hypr-${networkId.slice(0, 10)}`;
}

/** Inside the subnet and neither its network nor its broadcast address. */
export function isHostAddress(subnet: Cidr, addr: number): boolean {
  return addr > subnet.network && addr < subnet.network + cidrSize(subnet) - 1;
}

/** Subnets from the pools, in order. */
export function* candidateSubnets(pools: readonly AddressPool[]): Generator<Cidr> {
  for (const p of pools) {
    const base = parseCidr(p.base);
    if (p.size < base.prefix || p.size > 30)
      throw new HyprError('NETWORK_POOL_INVALID', `address pool ${p.base}: size /${p.size} does not fit`);
    const step = 2 ** (32 - p.size);
    for (let n = base.network; n <= cidrLast(base); n += step) yield { network: n, prefix: p.size };
  }
}

export function checkNetworkName(name: string): void {
  if (!NAME_RE.test(name))
    throw new HyprError(
      'NETWORK_NAME_INVALID',
      `${JSON.stringify(name)} is not a valid network name`,
      'use letters, digits, "_", "." and "-", starting with a letter or digit',
    );
}

/**
 * Decides the addressing of network `id`. `hostRoutes` are the host's routes already filtered to the
 * ones a HYPR subnet must keep clear of.
 */
export function planNetwork(
  id: string,
  req: NetworkRequest,
  others: readonly ExistingNetwork[],
  hostRoutes: readonly HostRoute[],
  pools: readonly AddressPool[],
): NetworkPlan {
  const bridge = req.bridge ?? bridgeNameFor(id);
  if (!BRIDGE_RE.test(bridge))
    throw new HyprError(
      'NETWORK_BRIDGE_INVALID',
      `bridge name ${bridge} must start with "hypr-" and be at most 15 characters`,
    );
  if (others.some((n) => n.bridge === bridge))
    throw new HyprError('NETWORK_BRIDGE_IN_USE', `bridge ${bridge} belongs to another network`);
  const subnet = req.subnet ? checkSubnet(req.subnet, others, hostRoutes) : pickSubnet(others, hostRoutes, pools);
  const subnetText = formatCidr(subnet);
  let ipRange: string | undefined;
  if (req.ipRange) {
    const range = parseCidr(req.ipRange, { strict: true });
    if (!cidrWithin(subnet, range))
      throw new HyprError('NETWORK_RANGE_OUTSIDE_SUBNET', `ip range ${req.ipRange} is not inside subnet ${subnetText}`);
    ipRange = formatCidr(range);
  }
  let gateway = subnet.network + 1;
  if (req.gateway) {
    gateway = parseIpv4(req.gateway);
    if (!isHostAddress(subnet, gateway))
      throw new HyprError(
        'NETWORK_GATEWAY_OUTSIDE_SUBNET',
        `gateway ${req.gateway} is not a usable address of subnet ${subnetText}`,
      );
  }
  return { subnet: subnetText, gateway: formatIpv4(gateway), bridge, ...(ipRange ? { ipRange } : {}) };
}

/** A `--subnet`: well formed, /30 or larger, clear of the other networks and the host's routes. */
function checkSubnet(text: string, others: readonly ExistingNetwork[], hostRoutes: readonly HostRoute[]): Cidr {
  const subnet = parseCidr(text, { strict: true });
  if (subnet.prefix > 30)
    throw new HyprError('NETWORK_SUBNET_TOO_SMALL', `subnet ${text} is too small`, 'use a prefix of /30 or shorter');
  for (const n of others) {
    if (cidrsOverlap(subnet, parseCidr(n.subnet)))
      throw new HyprError(
        'NETWORK_SUBNET_OVERLAP',
        `subnet ${text} overlaps ${n.subnet} of network ${n.name}`,
        'pick a subnet no other network uses (`hypr network inspect` shows theirs)',
      );
  }
  for (const r of hostRoutes) {
    if (cidrsOverlap(subnet, r.cidr))
      throw new HyprError(
        'NETWORK_SUBNET_OVERLAP',
        `subnet ${text} overlaps the host's route ${describeRoute(r)}`,
        'pick a subnet the host does not route (see `ip route`)',
      );
  }
  return subnet;
}

function pickSubnet(
  others: readonly ExistingNetwork[],
  hostRoutes: readonly HostRoute[],
  pools: readonly AddressPool[],
): Cidr {
  const taken = [...others.map((n) => parseCidr(n.subnet)), ...hostRoutes.map((r) => r.cidr)];
  for (const c of candidateSubnets(pools)) if (!taken.some((t) => cidrsOverlap(c, t))) return c;
  throw new HyprError(
    'NETWORK_POOL_EXHAUSTED',
    'every subnet of the address pools is in use by a network or a host route',
    'remove unused networks (`hypr network prune`) or give --subnet',
  );
}
