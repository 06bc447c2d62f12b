/**
 * The networks themselves: records in IPAM, each with a bridge, NAT/isolation rules and a DNS
 * server on its gateway while the daemon runs (docs/networking.md). The default network is named
 * `bridge`, as Docker's. NetworkManager adds the containers on them.
 */
import {
  DEFAULT_ADDRESS_POOLS,
  type DnsServer,
  HyprError,
  type HyprState,
  Ipam,
  type Lease,
  type Logger,
  type NetworkRecord,
  bringUpNetwork,
  containers,
  createTap,
  deleteTap,
  formatCidr,
  parseCidr,
  removeAllHyprRules,
  startDnsServer,
  tapNameFor,
  tearDownNetwork,
} from '@hypr/core';
import { eq } from 'drizzle-orm';
import type { NetworkConfig } from '../config/index.js';
import { type Attachment, type ContainerRef, DEFAULT_NETWORK, containerRefOf, readAttachments } from './attachments.js';
import { renderNetworkInspect } from './inspect.js';
import { chooseSubnet } from './subnet-choice.js';

/** A build VM's TAP, named for its lease (a container's is named for the container). */
function buildTapName(networkId: string, address: string): string {
  return tapNameFor(`build@${address}`, networkId);
}

/** What a build step's VM gets: the shape of GuestVmOptions' network fields, and its undoing. */
export interface BuildEndpoint {
  nics: { tap: string; mac: string; address: string; gateway?: string }[];
  dns: string[];
  hosts: { name: string; address: string }[];
  release(): Promise<void>;
}

export class NetworkRegistry {
  readonly ipam: Ipam;
  readonly enabled: boolean;
  protected readonly dns = new Map<string, DnsServer>();
  private readonly up = new Map<string, Promise<void>>();

  constructor(
    protected readonly state: HyprState,
    protected readonly config: NetworkConfig,
    protected readonly logger: Logger,
    opts: { enabled: boolean },
  ) {
    this.ipam = new Ipam(state, { pools: config['default-address-pools'] ?? DEFAULT_ADDRESS_POOLS });
    this.enabled = opts.enabled;
  }

  /** Creates the default network on first start, then brings every network up. */
  async start(): Promise<void> {
    if (!this.enabled) {
      this.logger.warn('networking disabled: bridges and TAPs need root (containers get no network)');
      return;
    }
    if (this.config.bridge !== 'none' && !this.ipam.getNetwork(DEFAULT_NETWORK)) {
      const bip = this.config.bip;
      const net = await this.createRecord({
        name: DEFAULT_NETWORK,
        ...(bip ? { subnet: formatCidr(parseCidr(bip)), gateway: bip.split('/')[0] } : {}),
        options: { 'hypr.default': 'true' },
      });
      this.logger.info({ subnet: net.subnet, bridge: net.bridge }, 'default network created');
    }
    for (const n of this.ipam.listNetworks()) {
      await this.ensureUp(n).catch((e) => this.logger.error({ err: e, network: n.name }, 'network not brought up'));
    }
    await this.releaseBuildLeases();
  }

  /**
   * A NIC for a build step's VM on the default network, as a container there gets (lease, TAP, NAT
   * egress, DNS on the gateway); undefined when there is no default network (no root, or
   * `"bridge": "none"`). The lease has no container (state keeps leases to containers it knows);
   * its TAP is named for the address, so what a crashed daemon left is found and freed at start.
   */
  async attachBuild(signal?: AbortSignal): Promise<BuildEndpoint | undefined> {
    const n = this.enabled ? this.ipam.getNetwork(DEFAULT_NETWORK) : undefined;
    if (!n) return undefined;
    const lease = this.ipam.allocate(n.id, {});
    const tap = buildTapName(n.id, lease.address);
    try {
      await this.onBridge(n, () => createTap({ name: tap, bridge: n.bridge, signal }));
    } catch (e) {
      this.ipam.release(n.id, lease.address);
      throw e;
    }
    let released = false;
    return {
      nics: [{ tap, mac: lease.mac, address: `${lease.address}/${lease.prefix}`, gateway: n.gateway }],
      dns: [n.gateway],
      hosts: [],
      release: async () => {
        if (released) return;
        released = true;
        await deleteTap(tap).catch((err) => this.logger.warn({ err, tap }, 'build TAP not deleted'));
        this.ipam.release(n.id, lease.address);
      },
    };
  }

  /** Leases with no container: build steps of a previous hyprd (or containers gone from state). */
  private async releaseBuildLeases(): Promise<void> {
    for (const l of this.ipam.leases()) {
      if (l.containerId) continue;
      await deleteTap(buildTapName(l.networkId, l.address)).catch(() => {});
      this.ipam.release(l.networkId, l.address);
    }
  }

  /** DNS servers closed, HYPR's nft table removed, bridges deleted but those of `busy` networks (VMs still on them). */
  protected async closeNetworks(busy: ReadonlySet<string>): Promise<void> {
    for (const d of this.dns.values()) await d.close().catch(() => {});
    this.dns.clear();
    if (!this.enabled) return;
    await removeAllHyprRules().catch((e) => this.logger.warn({ err: e }, 'cannot remove nft table'));
    for (const n of this.ipam.listNetworks()) {
      if (busy.has(n.id)) continue;
      await tearDownNetwork(n).catch((e) => this.logger.warn({ err: e, network: n.name }, 'bridge not removed'));
    }
  }

  protected isDefault(n: NetworkRecord): boolean {
    return n.options['hypr.default'] === 'true';
  }

  /** The default network is off: daemon.json `"bridge": "none"` and no such network. */
  protected defaultDisabled(): boolean {
    return this.config.bridge === 'none' && !this.ipam.getNetwork(DEFAULT_NETWORK);
  }

  private async createRecord(opts: {
    name: string;
    subnet?: string;
    gateway?: string;
    ipRange?: string;
    internal?: boolean;
    labels?: Record<string, string>;
    options?: Record<string, string>;
  }): Promise<NetworkRecord> {
    const subnet = await chooseSubnet(opts.subnet, this.ipam.listNetworks(), this.config['default-address-pools']);
    return this.ipam.createNetwork({ ...opts, subnet });
  }

  /** Bridge, rules and DNS server of a network; once per daemon, retried after a failure. */
  protected ensureUp(n: NetworkRecord): Promise<void> {
    let p = this.up.get(n.id);
    if (!p) {
      p = (async () => {
        await bringUpNetwork(n);
        if (!this.dns.has(n.id)) this.dns.set(n.id, await startDnsServer({ address: n.gateway, logger: this.logger }));
        this.logger.debug({ network: n.name, bridge: n.bridge, subnet: n.subnet }, 'network up');
      })();
      this.up.set(n.id, p);
      p.catch(() => this.up.delete(n.id));
    }
    return p;
  }

  /**
   * Runs `step` (which puts a TAP on the network's bridge) once the network is up. The bridge is
   * checked once per daemon, not before each start; a TAP that cannot be attached may mean it has
   * gone since (deleted by hand): then it is checked and brought up again, and `step` runs once more.
   */
  protected async onBridge<T>(n: NetworkRecord, step: () => Promise<T>): Promise<T> {
    const up = this.ensureUp(n);
    await up;
    try {
      return await step();
    } catch (e) {
      if (!(e instanceof HyprError && e.code === 'NETWORK_TAP_FAILED')) throw e;
      this.logger.warn({ err: e, network: n.name, bridge: n.bridge }, 'TAP not attached: checking the bridge');
      // Starts failing at once share one check.
      if (this.up.get(n.id) === up) this.up.delete(n.id);
      await this.ensureUp(n);
      return step();
    }
  }

  protected requireEnabled(what: string): void {
    if (!this.enabled)
      throw new HyprError(
        'NETWORK_UNAVAILABLE',
        `${what} needs hyprd's networking, which is off: bridges and TAP devices need root`,
        'run hyprd as root (user-mode networking is not implemented yet)',
      );
  }

  async createNetwork(opts: {
    name: string;
    subnet?: string;
    gateway?: string;
    ipRange?: string;
    internal?: boolean;
    labels?: Record<string, string>;
    driver?: string;
  }): Promise<NetworkRecord> {
    this.requireEnabled('network create');
    if (opts.driver && opts.driver !== 'bridge')
      throw new HyprError('NETWORK_DRIVER_UNSUPPORTED', `network driver ${opts.driver} is not supported`, 'use bridge');
    if (['none', 'host', 'default'].includes(opts.name))
      throw new HyprError('NETWORK_NAME_INVALID', `${opts.name} is a pre-defined network name`);
    const n = await this.createRecord(opts);
    try {
      await this.ensureUp(n);
    } catch (e) {
      await tearDownNetwork(n).catch(() => {});
      this.ipam.removeNetwork(n.id, { force: true });
      throw e;
    }
    this.logger.info({ network: n.name, subnet: n.subnet }, 'network created');
    return n;
  }

  list(): NetworkRecord[] {
    return this.ipam.listNetworks();
  }

  get(text: string): NetworkRecord {
    if (!this.enabled) this.requireEnabled('networks');
    return this.ipam.requireNetwork(text === 'default' ? DEFAULT_NETWORK : text);
  }

  /** The containers on a network: holding a lease, or set to join it at their next start. */
  users(n: NetworkRecord): { id: string; name: string; lease?: Lease }[] {
    const leases = this.ipam.leases(n.id);
    const out: { id: string; name: string; lease?: Lease }[] = [];
    for (const row of this.state.db.select().from(containers).all()) {
      const lease = leases.find((l) => l.containerId === row.id);
      const joins = this.attachmentsOf(containerRefOf(row)).some((a) => this.matches(a.network, n));
      if (lease || joins) out.push({ id: row.id, name: row.name, ...(lease ? { lease } : {}) });
    }
    return out;
  }

  protected matches(text: string, n: NetworkRecord): boolean {
    return (
      text === n.name ||
      text === n.id ||
      (text.length >= 3 && n.id.startsWith(text)) ||
      (text === 'default' && this.isDefault(n))
    );
  }

  async removeNetwork(text: string): Promise<NetworkRecord> {
    const n = this.get(text);
    if (this.isDefault(n))
      throw new HyprError('NETWORK_PREDEFINED', `${n.name} is a pre-defined network and cannot be removed`);
    const users = this.users(n);
    if (users.length)
      throw new HyprError(
        'NETWORK_IN_USE',
        `error while removing network: network ${n.name} id ${n.id} has active endpoints (${users.map((u) => u.name).join(', ')})`,
        `remove those containers, or \`hypr network disconnect ${n.name} CONTAINER\``,
      );
    await this.dns.get(n.id)?.close();
    this.dns.delete(n.id);
    this.up.delete(n.id);
    await tearDownNetwork(n);
    this.ipam.removeNetwork(n.id);
    this.logger.info({ network: n.name }, 'network removed');
    return n;
  }

  async prune(): Promise<string[]> {
    const deleted: string[] = [];
    for (const n of this.list()) {
      if (this.isDefault(n) || this.users(n).length) continue;
      await this.removeNetwork(n.id);
      deleted.push(n.name);
    }
    return deleted;
  }

  protected attachmentsOf(ref: ContainerRef): Attachment[] {
    return readAttachments(ref, this.defaultDisabled());
  }

  /** docker's `network inspect` document. */
  inspectNetwork(n: NetworkRecord): Record<string, unknown> {
    return renderNetworkInspect(n, this.users(n));
  }

  /** Reads a container for the hooks. */
  ref(id: string): ContainerRef | undefined {
    const row = this.state.db.select().from(containers).where(eq(containers.id, id)).get();
    return row ? containerRefOf(row) : undefined;
  }
}
