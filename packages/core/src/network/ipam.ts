/**
 * IP address management: HYPR networks (subnet, gateway, allocation range) and the leases of their
 * addresses, persisted in the state database so no address is handed out twice, even across daemon
 * restarts. Subnets may not overlap each other nor a route of the host (network-plan.ts decides them).
 */
import { randomBytes } from 'node:crypto';
import { and, asc, eq, like } from 'drizzle-orm';
import { HyprError, suggest } from '../errors.js';
import { type HyprState, leases, networks } from '../state/index.js';
import { type Cidr, cidrContains, cidrLast, formatIpv4, parseCidr, parseIpv4 } from './cidr.js';
import type { NetnsOptions } from './host-command.js';
import { type HostRoute, readHostRoutes } from './host-routes.js';
import {
  type AddressPool,
  DEFAULT_ADDRESS_POOLS,
  type NetworkRequest,
  bridgeNameFor,
  checkNetworkName,
  isHostAddress,
  planNetwork,
} from './network-plan.js';

export { type AddressPool, DEFAULT_ADDRESS_POOLS, bridgeNameFor, candidateSubnets } from './network-plan.js';

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

export interface CreateNetworkOptions extends NetworkRequest {
  internal?: boolean;
  driver?: string;
  labels?: Record<string, string>;
  options?: Record<string, string>;
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

type NetworkRow = typeof networks.$inferSelect;
type LeaseRow = typeof leases.$inferSelect;

/** A locally administered MAC derived from the address (02:68 = "h"), stable for a given IP. */
export function macForAddress(address: string): string {
  const n = parseIpv4(address);
  const bytes = [0x02, 0x68, n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

function rowToNetwork(r: NetworkRow): NetworkRecord {
  return {
    id: r.id,
    name: r.name,
    driver: r.driver,
    subnet: r.subnet ?? '',
    gateway: r.gateway ?? '',
    ...(r.ipRange ? { ipRange: r.ipRange } : {}),
    internal: r.internal === 1,
    bridge: r.bridge ?? bridgeNameFor(r.id),
    labels: JSON.parse(r.labels) as Record<string, string>,
    options: JSON.parse(r.options) as Record<string, string>,
    createdAt: r.createdAt,
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

/** The lowest address of `range` that is a host address of `subnet`, not the gateway and not used. */
function lowestFree(subnet: Cidr, range: Cidr, gateway: number, used: ReadonlySet<number>): number | undefined {
  for (let a = range.network; a <= cidrLast(range); a++)
    if (a !== gateway && !used.has(a) && isHostAddress(subnet, a)) return a;
  return undefined;
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
    return this.state.db
      .select()
      .from(networks)
      .orderBy(asc(networks.createdAt), asc(networks.name))
      .all()
      .map(rowToNetwork);
  }

  /** Finds a network by name, full id, or unique id prefix. */
  getNetwork(idOrName: string): NetworkRecord | undefined {
    const db = this.state.db;
    const row =
      db.select().from(networks).where(eq(networks.name, idOrName)).get() ??
      db.select().from(networks).where(eq(networks.id, idOrName)).get();
    if (row) return rowToNetwork(row);
    if (!/^[0-9a-f]{3,}$/.test(idOrName)) return undefined;
    const rows = db
      .select()
      .from(networks)
      .where(like(networks.id, `${idOrName}%`))
      .all();
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
    checkNetworkName(opts.name);
    if (this.getNetworkByName(opts.name))
      throw new HyprError('NETWORK_NAME_IN_USE', `a network named ${opts.name} already exists`);
    const id = opts.id ?? randomBytes(32).toString('hex');
    const hostRoutes = (opts.hostRoutes ?? (await readHostRoutes({ netns: opts.netns }))).filter(
      // The default route overlaps everything, and routes through HYPR bridges are HYPR networks.
      (r) => r.cidr.prefix > 0 && !r.dev?.startsWith('hypr-'),
    );
    const others = this.listNetworks().filter((n) => n.subnet);
    const plan = planNetwork(id, opts, others, hostRoutes, this.pools);
    const row: NetworkRow = {
      id,
      name: opts.name,
      driver: opts.driver ?? 'bridge',
      subnet: plan.subnet,
      gateway: plan.gateway,
      bridge: plan.bridge,
      labels: JSON.stringify(opts.labels ?? {}),
      ipRange: plan.ipRange ?? null,
      internal: opts.internal ? 1 : 0,
      options: JSON.stringify(opts.options ?? {}),
      createdAt: Date.now(),
    };
    try {
      this.state.db.insert(networks).values(row).run();
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
    this.state.db.delete(networks).where(eq(networks.id, n.id)).run();
    return n;
  }

  leases(networkId?: string): Lease[] {
    const q = this.state.db.select().from(leases);
    const rows = networkId ? q.where(eq(leases.networkId, networkId)).all() : q.all();
    return rows.map((r) => this.rowToLease(r)).sort((a, b) => parseIpv4(a.address) - parseIpv4(b.address));
  }

  leasesOfContainer(containerId: string): Lease[] {
    const rows = this.state.db.select().from(leases).where(eq(leases.containerId, containerId)).all();
    return rows.map((r) => this.rowToLease(r));
  }

  /**
   * Hands out an address of the network: the static one asked for, or the lowest free one of the
   * allocation range. Runs in an immediate transaction, so two processes never get the same address.
   */
  allocate(idOrName: string, opts: AllocateOptions = {}): Lease {
    const n = this.requireNetwork(idOrName);
    const { subnet, gateway, range } = networkBlocks(n);
    return this.state.db.transaction(
      (tx): Lease => {
        const held = tx.select({ address: leases.address }).from(leases).where(eq(leases.networkId, n.id)).all();
        const used = new Set(held.map((r) => parseIpv4(r.address)));
        const addr = opts.address
          ? this.checkStaticAddress(n, opts.address, { subnet, gateway, used })
          : lowestFree(subnet, range, gateway, used);
        if (addr === undefined)
          throw new HyprError(
            'NETWORK_SUBNET_EXHAUSTED',
            `network ${n.name} has no free address left in ${n.ipRange ?? n.subnet}`,
            'remove containers from it, or create a network with a larger subnet',
          );
        const address = formatIpv4(addr);
        const row: LeaseRow = {
          networkId: n.id,
          address,
          containerId: opts.containerId ?? null,
          mac: opts.mac ?? macForAddress(address),
          createdAt: Date.now(),
        };
        try {
          tx.insert(leases).values(row).run();
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
      },
      { behavior: 'immediate' },
    );
  }

  /** Gives an address back; true when it was leased. */
  release(networkId: string, address: string): boolean {
    const r = this.state.db
      .delete(leases)
      .where(and(eq(leases.networkId, networkId), eq(leases.address, address)))
      .run();
    return r.changes > 0;
  }

  /** Releases every address a container holds (on `rm`), returning them. */
  releaseContainer(containerId: string): Lease[] {
    const held = this.leasesOfContainer(containerId);
    this.state.db.delete(leases).where(eq(leases.containerId, containerId)).run();
    return held;
  }

  /** A `--ip`: in the subnet, neither the gateway nor the network/broadcast address, and free. */
  private checkStaticAddress(
    n: NetworkRecord,
    text: string,
    { subnet, gateway, used }: { subnet: Cidr; gateway: number; used: ReadonlySet<number> },
  ): number {
    const addr = parseIpv4(text);
    if (!cidrContains(subnet, addr))
      throw new HyprError(
        'NETWORK_ADDRESS_OUT_OF_RANGE',
        `address ${text} is not in subnet ${n.subnet} of network ${n.name}`,
      );
    if (addr === gateway || !isHostAddress(subnet, addr))
      throw new HyprError(
        'NETWORK_ADDRESS_RESERVED',
        `address ${text} is the ${addr === gateway ? 'gateway' : 'network or broadcast address'} of network ${n.name}`,
      );
    if (used.has(addr))
      throw new HyprError(
        'NETWORK_ADDRESS_IN_USE',
        `address ${text} of network ${n.name} is already in use`,
        'pick another --ip, or leave it out to get a free one',
      );
    return addr;
  }

  private getNetworkByName(name: string): NetworkRow | undefined {
    return this.state.db.select().from(networks).where(eq(networks.name, name)).get();
  }

  private rowToLease(r: LeaseRow, prefix?: number): Lease {
    let p = prefix;
    if (p === undefined) {
      const n = this.state.db
        .select({ subnet: networks.subnet })
        .from(networks)
        .where(eq(networks.id, r.networkId))
        .get();
      p = n?.subnet ? parseCidr(n.subnet).prefix : 32;
    }
    return {
      networkId: r.networkId,
      address: r.address,
      prefix: p,
      mac: r.mac ?? macForAddress(r.address),
      ...(r.containerId ? { containerId: r.containerId } : {}),
      createdAt: r.createdAt,
    };
  }
}
