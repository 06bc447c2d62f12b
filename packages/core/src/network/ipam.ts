/**
 * IP address management: HYPR networks (subnet, gateway, allocation range) and the leases of their
 * addresses, persisted in the state database so no address is handed out twice, even across daemon
 * restarts. Subnets may not overlap each other nor a route of the host; without --subnet one is
 * picked from the address pools, skipping both.
 */
import { randomBytes } from 'node:crypto';
import { HyprError, suggest } from '../errors.js';
import type { HyprState } from '../state/index.js';
import {
  type Cidr,
  cidrContains,
  cidrLast,
  cidrSize,
  cidrWithin,
  cidrsOverlap,
  formatCidr,
  formatIpv4,
  parseCidr,
  parseIpv4,
} from './cidr.js';
import type { NetnsOptions } from './host-command.js';
import { type HostRoute, describeRoute, readHostRoutes } from './host-routes.js';

export interface NetworkRecord {
  id: string;
  name: string;
  driver: string;
  /** `10.88.0.0/16` */
  subnet: string;
  /** `10.88.0.1`: the bridge's address, the VMs' default route and DNS server. */
  gateway: string;
  /** Addresses are allocated from this block (inside subnet); absent = the whole subnet. */
  ipRange?: string;
  /** No egress and no route to other networks. */
  internal: boolean;
  /** Linux bridge device, `hypr-<10 hex>`. */
  bridge: string;
  labels: Record<string, string>;
  options: Record<string, string>;
  createdAt: number;
}

export interface Lease {
  networkId: string;
  address: string;
  /** Prefix length of the network, for `address/prefix` in the guest. */
  prefix: number;
  mac: string;
  containerId?: string;
  createdAt: number;
}

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

export interface CreateNetworkOptions {
  name: string;
  /** CIDR; absent = picked from the pools. */
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  internal?: boolean;
  driver?: string;
  labels?: Record<string, string>;
  options?: Record<string, string>;
  /** Bridge device name (must start `hypr-`, ≤ 15 characters); absent = `hypr-<first 10 of id>`. */
  bridge?: string;
  id?: string;
  /** The host's routes to keep clear of; absent = read with `ip -j route` (in `netns` if given). */
  hostRoutes?: HostRoute[];
  netns?: NetnsOptions['netns'];
}

export interface AllocateOptions {
  containerId?: string;
  /** A static address (`--ip`): must be in the subnet and free. */
  address?: string;
  mac?: string;
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const BRIDGE_RE = /^hypr-[a-zA-Z0-9_.-]{1,10}$/;

interface NetworkRow {
  id: string;
  name: string;
  driver: string;
  subnet: string | null;
  gateway: string | null;
  bridge: string | null;
  labels: string;
  ip_range: string | null;
  internal: number;
  options: string;
  created_at: number;
}

interface LeaseRow {
  network_id: string;
  address: string;
  container_id: string | null;
  mac: string | null;
  created_at: number;
}

/** A locally administered MAC derived from the address (02:68 = "h"), stable for a given IP. */
export function macForAddress(address: string): string {
  const n = parseIpv4(address);
  const bytes = [0x02, 0x68, n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export function bridgeNameFor(networkId: string): string {
  return `hypr-${networkId.slice(0, 10)}`;
}

function rowToNetwork(r: NetworkRow): NetworkRecord {
  return {
    id: r.id,
    name: r.name,
    driver: r.driver,
    subnet: r.subnet ?? '',
    gateway: r.gateway ?? '',
    ...(r.ip_range ? { ipRange: r.ip_range } : {}),
    internal: r.internal === 1,
    bridge: r.bridge ?? bridgeNameFor(r.id),
    labels: JSON.parse(r.labels) as Record<string, string>,
    options: JSON.parse(r.options) as Record<string, string>,
    createdAt: r.created_at,
  };
}

/** The subnet, gateway and allocation block of a network, parsed. */
export function networkBlocks(n: Pick<NetworkRecord, 'subnet' | 'gateway' | 'ipRange'>): {
  subnet: Cidr;
  gateway: number;
  range: Cidr;
} {
  const subnet = parseCidr(n.subnet);
  return { subnet, gateway: parseIpv4(n.gateway), range: n.ipRange ? parseCidr(n.ipRange) : subnet };
}

/** Subnets from the pools, in order, that overlap neither `taken` nor the host's routes. */
export function* candidateSubnets(pools: readonly AddressPool[]): Generator<Cidr> {
  for (const p of pools) {
    const base = parseCidr(p.base);
    if (p.size < base.prefix || p.size > 30)
      throw new HyprError('NETWORK_POOL_INVALID', `address pool ${p.base}: size /${p.size} does not fit`);
    const step = 2 ** (32 - p.size);
    for (let n = base.network; n <= cidrLast(base); n += step) yield { network: n, prefix: p.size };
  }
}

export class Ipam {
  private readonly pools: readonly AddressPool[];

  constructor(
    private readonly state: HyprState,
    opts: { pools?: readonly AddressPool[] } = {},
  ) {
    this.pools = opts.pools ?? DEFAULT_ADDRESS_POOLS;
  }

  listNetworks(): NetworkRecord[] {
    const rows = this.state.sqlite.prepare('SELECT * FROM networks ORDER BY created_at, name').all() as NetworkRow[];
    return rows.map(rowToNetwork);
  }

  /** Finds a network by name, full id, or unique id prefix. */
  getNetwork(idOrName: string): NetworkRecord | undefined {
    const s = this.state.sqlite;
    const row =
      (s.prepare('SELECT * FROM networks WHERE name = ?').get(idOrName) as NetworkRow | undefined) ??
      (s.prepare('SELECT * FROM networks WHERE id = ?').get(idOrName) as NetworkRow | undefined);
    if (row) return rowToNetwork(row);
    if (!/^[0-9a-f]{3,}$/.test(idOrName)) return undefined;
    const rows = s.prepare("SELECT * FROM networks WHERE id LIKE ? || '%'").all(idOrName) as NetworkRow[];
    if (rows.length > 1)
      throw new HyprError('NETWORK_AMBIGUOUS', `network id prefix ${idOrName} matches ${rows.length} networks`);
    return rows[0] ? rowToNetwork(rows[0]) : undefined;
  }

  requireNetwork(idOrName: string): NetworkRecord {
    const n = this.getNetwork(idOrName);
    if (n) return n;
    const close = suggest(
      idOrName,
      this.listNetworks().map((x) => x.name),
    );
    throw new HyprError(
      'NETWORK_NOT_FOUND',
      `network ${idOrName} not found`,
      close ? `did you mean ${close}?` : 'list networks with `hypr network ls`',
    );
  }

  /**
   * Validates and records a network. Checks the name, the subnet against every other HYPR network
   * and the host's routes, the gateway and the range; picks a subnet from the pools when none is given.
   */
  async createNetwork(opts: CreateNetworkOptions): Promise<NetworkRecord> {
    if (!NAME_RE.test(opts.name))
      throw new HyprError(
        'NETWORK_NAME_INVALID',
        `${JSON.stringify(opts.name)} is not a valid network name`,
        'use letters, digits, "_", "." and "-", starting with a letter or digit',
      );
    if (this.getNetworkByName(opts.name))
      throw new HyprError('NETWORK_NAME_IN_USE', `a network named ${opts.name} already exists`);
    const id = opts.id ?? randomBytes(32).toString('hex');
    const bridge = opts.bridge ?? bridgeNameFor(id);
    if (!BRIDGE_RE.test(bridge))
      throw new HyprError(
        'NETWORK_BRIDGE_INVALID',
        `bridge name ${bridge} must start with "hypr-" and be at most 15 characters`,
      );
    const hostRoutes = (opts.hostRoutes ?? (await readHostRoutes({ netns: opts.netns }))).filter(
      // The default route overlaps everything, and routes through HYPR bridges are HYPR networks.
      (r) => r.cidr.prefix > 0 && !r.dev?.startsWith('hypr-'),
    );
    const others = this.listNetworks().filter((n) => n.subnet);
    if (others.some((n) => n.bridge === bridge))
      throw new HyprError('NETWORK_BRIDGE_IN_USE', `bridge ${bridge} belongs to another network`);

    let subnet: Cidr;
    if (opts.subnet) {
      subnet = parseCidr(opts.subnet, { strict: true });
      if (subnet.prefix > 30)
        throw new HyprError(
          'NETWORK_SUBNET_TOO_SMALL',
          `subnet ${opts.subnet} is too small`,
          'use a prefix of /30 or shorter',
        );
      for (const n of others) {
        if (cidrsOverlap(subnet, parseCidr(n.subnet)))
          throw new HyprError(
            'NETWORK_SUBNET_OVERLAP',
            `subnet ${opts.subnet} overlaps ${n.subnet} of network ${n.name}`,
            'pick a subnet no other network uses (`hypr network inspect` shows theirs)',
          );
      }
      for (const r of hostRoutes) {
        if (cidrsOverlap(subnet, r.cidr))
          throw new HyprError(
            'NETWORK_SUBNET_OVERLAP',
            `subnet ${opts.subnet} overlaps the host's route ${describeRoute(r)}`,
            'pick a subnet the host does not route (see `ip route`)',
          );
      }
    } else {
      const taken = [...others.map((n) => parseCidr(n.subnet)), ...hostRoutes.map((r) => r.cidr)];
      let found: Cidr | undefined;
      for (const c of candidateSubnets(this.pools)) {
        if (!taken.some((t) => cidrsOverlap(c, t))) {
          found = c;
          break;
        }
      }
      if (!found)
        throw new HyprError(
          'NETWORK_POOL_EXHAUSTED',
          'every subnet of the address pools is in use by a network or a host route',
          'remove unused networks (`hypr network prune`) or give --subnet',
        );
      subnet = found;
    }
    const subnetText = formatCidr(subnet);

    let range: Cidr | undefined;
    if (opts.ipRange) {
      range = parseCidr(opts.ipRange, { strict: true });
      if (!cidrWithin(subnet, range))
        throw new HyprError(
          'NETWORK_RANGE_OUTSIDE_SUBNET',
          `ip range ${opts.ipRange} is not inside subnet ${subnetText}`,
        );
    }
    let gateway: number;
    if (opts.gateway) {
      gateway = parseIpv4(opts.gateway);
      if (!this.isHostAddress(subnet, gateway))
        throw new HyprError(
          'NETWORK_GATEWAY_OUTSIDE_SUBNET',
          `gateway ${opts.gateway} is not a usable address of subnet ${subnetText}`,
        );
    } else gateway = subnet.network + 1;

    const row: NetworkRow = {
      id,
      name: opts.name,
      driver: opts.driver ?? 'bridge',
      subnet: subnetText,
      gateway: formatIpv4(gateway),
      bridge,
      labels: JSON.stringify(opts.labels ?? {}),
      ip_range: range ? formatCidr(range) : null,
      internal: opts.internal ? 1 : 0,
      options: JSON.stringify(opts.options ?? {}),
      created_at: Date.now(),
    };
    try {
      this.state.sqlite
        .prepare(
          `INSERT INTO networks (id, name, driver, subnet, gateway, bridge, labels, ip_range, internal, options, created_at)
           VALUES (@id, @name, @driver, @subnet, @gateway, @bridge, @labels, @ip_range, @internal, @options, @created_at)`,
        )
        .run(row);
    } catch (e) {
      if (/UNIQUE constraint failed: networks\.name/.test((e as Error).message))
        throw new HyprError('NETWORK_NAME_IN_USE', `a network named ${opts.name} already exists`, undefined, {
          cause: e,
        });
      throw e;
    }
    return rowToNetwork(row);
  }

  /**
   * Forgets a network and its leases. Refuses while a container holds an address on it unless
   * `force` (the caller has then stopped those containers).
   */
  removeNetwork(idOrName: string, opts: { force?: boolean } = {}): NetworkRecord {
    const n = this.requireNetwork(idOrName);
    const holders = this.leases(n.id).filter((l) => l.containerId);
    if (holders.length > 0 && !opts.force)
      throw new HyprError(
        'NETWORK_IN_USE',
        `network ${n.name} has ${holders.length} connected container(s)`,
        'disconnect or remove them first (`hypr network disconnect`)',
      );
    this.state.sqlite.prepare('DELETE FROM networks WHERE id = ?').run(n.id);
    return n;
  }

  leases(networkId?: string): Lease[] {
    const rows = (
      networkId
        ? this.state.sqlite.prepare('SELECT * FROM leases WHERE network_id = ?').all(networkId)
        : this.state.sqlite.prepare('SELECT * FROM leases').all()
    ) as LeaseRow[];
    return rows.map((r) => this.rowToLease(r)).sort((a, b) => parseIpv4(a.address) - parseIpv4(b.address));
  }

  leasesOfContainer(containerId: string): Lease[] {
    const rows = this.state.sqlite
      .prepare('SELECT * FROM leases WHERE container_id = ?')
      .all(containerId) as LeaseRow[];
    return rows.map((r) => this.rowToLease(r));
  }

  /**
   * Hands out an address of the network: the static one asked for, or the lowest free one of the
   * allocation range. Runs in an immediate transaction, so two processes never get the same address.
   */
  allocate(idOrName: string, opts: AllocateOptions = {}): Lease {
    const n = this.requireNetwork(idOrName);
    const { subnet, gateway, range } = networkBlocks(n);
    const s = this.state.sqlite;
    return s
      .transaction((): Lease => {
        const used = new Set(
          (s.prepare('SELECT address FROM leases WHERE network_id = ?').all(n.id) as { address: string }[]).map((r) =>
            parseIpv4(r.address),
          ),
        );
        let addr: number | undefined;
        if (opts.address) {
          addr = parseIpv4(opts.address);
          if (!cidrContains(subnet, addr))
            throw new HyprError(
              'NETWORK_ADDRESS_OUT_OF_RANGE',
              `address ${opts.address} is not in subnet ${n.subnet} of network ${n.name}`,
            );
          if (addr === gateway || !this.isHostAddress(subnet, addr))
            throw new HyprError(
              'NETWORK_ADDRESS_RESERVED',
              `address ${opts.address} is the ${addr === gateway ? 'gateway' : 'network or broadcast address'} of network ${n.name}`,
            );
          if (used.has(addr))
            throw new HyprError(
              'NETWORK_ADDRESS_IN_USE',
              `address ${opts.address} of network ${n.name} is already in use`,
              'pick another --ip, or leave it out to get a free one',
            );
        } else {
          for (let a = range.network; a <= cidrLast(range); a++) {
            if (a !== gateway && !used.has(a) && this.isHostAddress(subnet, a)) {
              addr = a;
              break;
            }
          }
          if (addr === undefined)
            throw new HyprError(
              'NETWORK_SUBNET_EXHAUSTED',
              `network ${n.name} has no free address left in ${n.ipRange ?? n.subnet}`,
              'remove containers from it, or create a network with a larger subnet',
            );
        }
        const address = formatIpv4(addr);
        const row: LeaseRow = {
          network_id: n.id,
          address,
          container_id: opts.containerId ?? null,
          mac: opts.mac ?? macForAddress(address),
          created_at: Date.now(),
        };
        try {
          s.prepare(
            'INSERT INTO leases (network_id, address, container_id, mac, created_at) VALUES (@network_id, @address, @container_id, @mac, @created_at)',
          ).run(row);
        } catch (e) {
          if (/FOREIGN KEY constraint failed/.test((e as Error).message))
            throw new HyprError(
              'NETWORK_CONTAINER_UNKNOWN',
              `container ${opts.containerId} is not in the state database`,
              'record the container before connecting it to a network',
              { cause: e },
            );
          throw e;
        }
        return this.rowToLease(row, subnet.prefix);
      })
      .immediate();
  }

  /** Gives an address back; true when it was leased. */
  release(networkId: string, address: string): boolean {
    return (
      this.state.sqlite.prepare('DELETE FROM leases WHERE network_id = ? AND address = ?').run(networkId, address)
        .changes > 0
    );
  }

  /** Releases every address a container holds (on `rm`), returning them. */
  releaseContainer(containerId: string): Lease[] {
    const held = this.leasesOfContainer(containerId);
    this.state.sqlite.prepare('DELETE FROM leases WHERE container_id = ?').run(containerId);
    return held;
  }

  private getNetworkByName(name: string): NetworkRow | undefined {
    return this.state.sqlite.prepare('SELECT * FROM networks WHERE name = ?').get(name) as NetworkRow | undefined;
  }

  /** Inside the subnet and neither its network nor its broadcast address. */
  private isHostAddress(subnet: Cidr, addr: number): boolean {
    return addr > subnet.network && addr < subnet.network + cidrSize(subnet) - 1;
  }

  private rowToLease(r: LeaseRow, prefix?: number): Lease {
    let p = prefix;
    if (p === undefined) {
      const n = this.state.sqlite.prepare('SELECT subnet FROM networks WHERE id = ?').get(r.network_id) as
        | { subnet: string | null }
        | undefined;
      p = n?.subnet ? parseCidr(n.subnet).prefix : 32;
    }
    return {
      networkId: r.network_id,
      address: r.address,
      prefix: p,
      mac: r.mac ?? macForAddress(r.address),
      ...(r.container_id ? { containerId: r.container_id } : {}),
      createdAt: r.created_at,
    };
  }
}
