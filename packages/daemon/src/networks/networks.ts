/**
 * The network manager: HYPR networks as a Docker user knows them, composed from core's primitives
 * (docs/networking.md). The default network is named `bridge`, as Docker's; every network, the
 * default one included, has a bridge, NAT/isolation rules and a DNS server on its gateway while the
 * daemon runs. A container holds a lease on each of its networks from its first start until `rm`;
 * its TAPs, DNS names and published ports exist while it runs. What a container joins is kept in
 * its directory (`networks.json`, written by `network connect/disconnect`), else taken from its
 * create options; the ports it published in `ports.json`, so a restarted daemon binds the same ones.
 *
 * Bridges and TAPs need root: without it (or with daemon.json `"bridge": "none"`) containers get
 * no NIC and `-p` / `--network` are refused, never faked.
 */
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  type AddressPool,
  ConfigKeyError,
  DEFAULT_ADDRESS_POOLS,
  type DnsServer,
  type Endpoint,
  HyprError,
  type HyprState,
  Ipam,
  type Lease,
  type Logger,
  type NetworkRecord,
  type PortMapping,
  type PortProxy,
  type PublishedPort,
  bringUpNetwork,
  candidateSubnets,
  cidrsOverlap,
  connectEndpoint,
  containers,
  deleteTap,
  formatCidr,
  mappingsForExposed,
  parseCidr,
  parsePortSpec,
  readHostRoutes,
  removeAllHyprRules,
  restoreEndpoint,
  startDnsServer,
  startPortProxy,
  tapNameFor,
  tearDownNetwork,
} from '@hypr/core';
import { eq } from 'drizzle-orm';

export const DEFAULT_NETWORK = 'bridge';
const NETWORKS_FILE = 'networks.json';
const PORTS_FILE = 'ports.json';

/** `run --network --network-alias --ip -P`, as stored in a container's create options. */
export interface ContainerNetworkOptions {
  network?: string;
  aliases?: string[];
  ip?: string;
  publishAll?: boolean;
}

/** The daemon.json keys about networking (docker's names). */
export interface NetworkConfig {
  /** `"none"` disables the default network. */
  bridge?: string;
  /** The default network's gateway and prefix, `10.200.0.1/24`. */
  bip?: string;
  'default-address-pools'?: AddressPool[];
}

/** What the VM gets: the shape of VmConfig's network fields. */
export interface VmNetworkConfig {
  nics: { tap: string; mac: string; address: string; gateway?: string }[];
  dns: string[];
  hosts: { name: string; address: string }[];
}

/** The part of a container the manager reads (a row of `containers` and its parsed config). */
export interface ContainerRef {
  id: string;
  name: string;
  hostname: string;
  dir: string;
  ports: string[];
  exposedPorts: string[];
  network?: ContainerNetworkOptions;
}

interface Attachment {
  /** Network name or id as given. */
  network: string;
  aliases: string[];
  ip?: string;
}

interface Running {
  endpoints: { endpoint: Endpoint; network: NetworkRecord; aliases: string[] }[];
  proxy?: PortProxy;
}

/** Reads the networking keys of daemon.json (the file loadDaemonConfig picked). */
export function loadNetworkConfig(file: string | undefined): NetworkConfig {
  if (!file) return {};
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
  const out: NetworkConfig = {};
  if (doc.bridge !== undefined) {
    if (typeof doc.bridge !== 'string') throw new ConfigKeyError('CONFIG_INVALID', 'must be a string', file, 'bridge');
    out.bridge = doc.bridge;
  }
  if (doc.bip !== undefined) {
    if (typeof doc.bip !== 'string' || !/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(doc.bip))
      throw new ConfigKeyError('CONFIG_INVALID', 'must be ADDRESS/PREFIX, for example "10.200.0.1/24"', file, 'bip');
    out.bip = doc.bip;
  }
  const pools = doc['default-address-pools'];
  if (pools !== undefined) {
    if (
      !Array.isArray(pools) ||
      pools.some((p) => typeof p?.base !== 'string' || typeof p?.size !== 'number' || !Number.isInteger(p.size))
    )
      throw new ConfigKeyError(
        'CONFIG_INVALID',
        'must be a list of {"base": CIDR, "size": PREFIX}',
        file,
        'default-address-pools',
      );
    out['default-address-pools'] = pools as AddressPool[];
  }
  return out;
}

/** Binds and closes each fixed host port: a port in use fails `create`, before anything exists. */
async function probePorts(mappings: readonly PortMapping[]): Promise<void> {
  for (const m of mappings) {
    if (m.protocol !== 'tcp' || m.hostPort === 0 || m.hostPortEnd !== undefined) continue;
    await new Promise<void>((resolve, reject) => {
      const s = createServer();
      s.once('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'EADDRINUSE')
          reject(
            new HyprError(
              'PORT_IN_USE',
              `host port ${m.hostIp}:${m.hostPort}/tcp is already in use`,
              'pick another host port, or stop what listens there (`ss -ltnp` names it)',
            ),
          );
        else resolve(); // other failures are reported by the proxy at start
      });
      s.listen({ host: m.hostIp, port: m.hostPort, exclusive: true }, () => s.close(() => resolve()));
    });
  }
}

export class NetworkManager {
  readonly ipam: Ipam;
  readonly enabled: boolean;
  private readonly dns = new Map<string, DnsServer>();
  private readonly up = new Map<string, Promise<void>>();
  private readonly running = new Map<string, Running>();

  constructor(
    private readonly state: HyprState,
    private readonly config: NetworkConfig,
    private readonly logger: Logger,
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
  }

  /** Graceful stop: proxies and DNS servers closed, HYPR's nft table removed, idle bridges deleted. */
  async close(): Promise<void> {
    const busy = new Set<string>();
    for (const r of this.running.values()) {
      await r.proxy?.close().catch(() => {});
      for (const e of r.endpoints) busy.add(e.network.id);
    }
    for (const d of this.dns.values()) await d.close().catch(() => {});
    this.dns.clear();
    if (!this.enabled) return;
    await removeAllHyprRules().catch((e) => this.logger.warn({ err: e }, 'cannot remove nft table'));
    for (const n of this.ipam.listNetworks()) {
      if (busy.has(n.id)) continue;
      await tearDownNetwork(n).catch((e) => this.logger.warn({ err: e, network: n.name }, 'bridge not removed'));
    }
  }

  // ---- networks ----

  private isDefault(n: NetworkRecord): boolean {
    return n.options['hypr.default'] === 'true';
  }

  /**
   * Records a network. Without --subnet the block is chosen here, clear of every host route
   * including other HYPR daemons' bridges (IPAM alone skips all `hypr-*` routes as its own).
   */
  private async createRecord(opts: {
    name: string;
    subnet?: string;
    gateway?: string;
    ipRange?: string;
    internal?: boolean;
    labels?: Record<string, string>;
    options?: Record<string, string>;
  }): Promise<NetworkRecord> {
    const mine = new Set(this.ipam.listNetworks().map((n) => n.bridge));
    const foreign = (await readHostRoutes()).filter(
      (r) => r.cidr.prefix > 0 && r.dev?.startsWith('hypr-') && !mine.has(r.dev),
    );
    let subnet = opts.subnet;
    if (subnet) {
      const c = parseCidr(subnet);
      const hit = foreign.find((r) => cidrsOverlap(c, r.cidr));
      if (hit)
        throw new HyprError(
          'NETWORK_SUBNET_OVERLAP',
          `subnet ${subnet} overlaps ${formatCidr(hit.cidr)} of bridge ${hit.dev} (another HYPR daemon's network)`,
          'pick another subnet',
        );
    } else {
      const taken = [
        ...this.ipam.listNetworks().map((n) => parseCidr(n.subnet)),
        ...(await readHostRoutes()).filter((r) => r.cidr.prefix > 0 && !mine.has(r.dev ?? '')).map((r) => r.cidr),
      ];
      for (const c of candidateSubnets(this.config['default-address-pools'] ?? DEFAULT_ADDRESS_POOLS)) {
        if (!taken.some((t) => cidrsOverlap(c, t))) {
          subnet = formatCidr(c);
          break;
        }
      }
      // none free: IPAM reports NETWORK_POOL_EXHAUSTED
    }
    return this.ipam.createNetwork({ ...opts, subnet });
  }

  /** Bridge, rules and DNS server of a network; once per daemon, retried after a failure. */
  private ensureUp(n: NetworkRecord): Promise<void> {
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

  private requireEnabled(what: string): void {
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
      const joins = this.attachmentsOf(this.refOf(row)).some((a) => this.matches(a.network, n));
      if (lease || joins) out.push({ id: row.id, name: row.name, ...(lease ? { lease } : {}) });
    }
    return out;
  }

  private matches(text: string, n: NetworkRecord): boolean {
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

  /** `network connect` of a container that is not running: it joins at its next start. */
  async connect(
    ref: ContainerRef,
    running: boolean,
    text: string,
    o: { aliases?: string[]; ip?: string },
  ): Promise<void> {
    const n = this.get(text);
    if (running)
      throw new HyprError(
        'NETWORK_CONNECT_RUNNING_NOT_SUPPORTED',
        `container ${ref.name} is running: adding a NIC to a running VM is not supported`,
        'stop it, connect it, and start it again',
      );
    const list = this.attachmentsOf(ref);
    if (list.some((a) => this.matches(a.network, n)))
      throw new HyprError(
        'NETWORK_ALREADY_CONNECTED',
        `container ${ref.name} is already connected to network ${n.name}`,
      );
    this.checkAttachment(n, o);
    await this.saveAttachments(ref, [
      ...list.filter((a) => a.network !== 'none'),
      { network: n.name, aliases: o.aliases ?? [], ...(o.ip ? { ip: o.ip } : {}) },
    ]);
  }

  async disconnect(ref: ContainerRef, running: boolean, text: string): Promise<void> {
    const n = this.get(text);
    if (running)
      throw new HyprError(
        'NETWORK_DISCONNECT_RUNNING_NOT_SUPPORTED',
        `container ${ref.name} is running: removing a NIC from a running VM is not supported`,
        'stop it first',
      );
    const list = this.attachmentsOf(ref);
    if (!list.some((a) => this.matches(a.network, n)))
      throw new HyprError('NETWORK_NOT_CONNECTED', `container ${ref.name} is not connected to network ${n.name}`);
    const rest = list.filter((a) => !this.matches(a.network, n));
    await this.saveAttachments(ref, rest.length ? rest : [{ network: 'none', aliases: [] }]);
    for (const l of this.ipam.leasesOfContainer(ref.id)) if (l.networkId === n.id) this.ipam.release(n.id, l.address);
  }

  // ---- containers ----

  private refOf(row: typeof containers.$inferSelect): ContainerRef {
    const c = JSON.parse(row.config) as {
      hostname?: string;
      exposedPorts?: Record<string, object>;
      create?: { ports?: string[]; network?: ContainerNetworkOptions };
    };
    return {
      id: row.id,
      name: row.name,
      hostname: c.hostname ?? '',
      dir: row.dir ?? '',
      ports: c.create?.ports ?? [],
      exposedPorts: Object.keys(c.exposedPorts ?? {}),
      network: c.create?.network,
    };
  }

  /** The networks a container joins: networks.json, else its --network (default: the default network). */
  private attachmentsOf(ref: ContainerRef): Attachment[] {
    if (ref.dir) {
      try {
        return JSON.parse(readFileSync(join(ref.dir, NETWORKS_FILE), 'utf8')) as Attachment[];
      } catch {
        /* not connected by hand: its create options say */
      }
    }
    const net = ref.network?.network || DEFAULT_NETWORK;
    if (net === 'none' || (net === DEFAULT_NETWORK && this.config.bridge === 'none' && !this.ipam.getNetwork(net)))
      return [];
    return [{ network: net, aliases: ref.network?.aliases ?? [], ...(ref.network?.ip ? { ip: ref.network.ip } : {}) }];
  }

  private async saveAttachments(ref: ContainerRef, list: Attachment[]): Promise<void> {
    await mkdir(ref.dir, { recursive: true, mode: 0o700 });
    await writeFile(join(ref.dir, NETWORKS_FILE), JSON.stringify(list.filter((a) => a.network !== 'none')));
  }

  private checkAttachment(n: NetworkRecord, o: { aliases?: string[]; ip?: string }): void {
    if (this.isDefault(n) && o.aliases?.length)
      throw new HyprError(
        'NETWORK_ALIAS_INVALID',
        'network-scoped aliases are supported for user-defined networks only',
        'create one with `hypr network create NAME` and run with --network NAME',
      );
    if (this.isDefault(n) && o.ip)
      throw new HyprError(
        'NETWORK_ADDRESS_INVALID',
        'user specified IP address is supported on user defined networks only',
      );
    if (o.ip) {
      const { subnet } = { subnet: parseCidr(n.subnet) };
      const probe = parseCidr(`${o.ip}/32`);
      if (!cidrsOverlap(subnet, probe))
        throw new HyprError(
          'NETWORK_ADDRESS_OUT_OF_RANGE',
          `address ${o.ip} is not in subnet ${n.subnet} of network ${n.name}`,
        );
    }
  }

  /** At `create`: the network exists, aliases and --ip fit it, -p parses and its fixed ports are free. */
  async validate(o: { ports?: string[]; network?: ContainerNetworkOptions }): Promise<void> {
    const mappings = (o.ports ?? []).flatMap((p) => parsePortSpec(p));
    const net = o.network?.network || DEFAULT_NETWORK;
    if (net === 'host' || net.startsWith('container:'))
      throw new HyprError(
        'NETWORK_MODE_UNSUPPORTED',
        `network mode ${net} is not supported: every container is a VM with its own kernel`,
      );
    if (net === 'none') {
      if (mappings.length || o.network?.publishAll)
        throw new HyprError(
          'INVALID_ARGUMENT_CONFLICT',
          'conflicting options: port publishing and the container type network mode',
        );
      if (o.network?.aliases?.length || o.network?.ip)
        throw new HyprError('INVALID_ARGUMENT_CONFLICT', 'conflicting options: --network none has no address or alias');
      return;
    }
    if (!this.enabled) {
      if (mappings.length || o.network?.publishAll || o.network?.network)
        this.requireEnabled('publishing ports and --network');
      return;
    }
    if (net === DEFAULT_NETWORK && this.config.bridge === 'none' && !this.ipam.getNetwork(net)) {
      if (mappings.length || o.network?.publishAll) this.requireEnabled('publishing ports without --network');
      return;
    }
    const n = this.get(net);
    this.checkAttachment(n, { aliases: o.network?.aliases, ip: o.network?.ip });
    if (o.network?.ip && this.ipam.leases(n.id).some((l) => l.address === o.network?.ip))
      throw new HyprError('NETWORK_ADDRESS_IN_USE', `address ${o.network.ip} of network ${n.name} is already in use`);
    await probePorts(mappings);
  }

  private mappingsOf(ref: ContainerRef): PortMapping[] {
    return [
      ...ref.ports.flatMap((p) => parsePortSpec(p)),
      ...(ref.network?.publishAll ? mappingsForExposed(ref.exposedPorts) : []),
    ];
  }

  /**
   * Before the VM boots: leases (kept or new), TAPs, published ports, DNS names. On failure
   * everything made here is undone and the container's leases are released: nothing is left behind.
   */
  async beforeStart(id: string): Promise<VmNetworkConfig | undefined> {
    const ref = this.ref(id);
    if (!ref) return undefined;
    const list = this.attachmentsOf(ref);
    const mappings = this.mappingsOf(ref);
    if (!list.length) {
      if (mappings.length)
        throw new HyprError('INVALID_ARGUMENT_CONFLICT', `container ${ref.name} has published ports but no network`);
      return undefined;
    }
    this.requireEnabled(`container ${ref.name}'s network`);
    const r: Running = { endpoints: [] };
    this.running.set(ref.id, r);
    try {
      for (const a of list) {
        const n = this.get(a.network);
        await this.ensureUp(n);
        const endpoint =
          (await restoreEndpoint(this.ipam, n.id, { containerId: ref.id })) ??
          (await connectEndpoint(this.ipam, n.id, { containerId: ref.id, address: a.ip }));
        r.endpoints.push({ endpoint, network: n, aliases: a.aliases });
      }
      if (mappings.length) {
        r.proxy = await startPortProxy({ mappings, target: r.endpoints[0].endpoint.ip, logger: this.logger });
        await writeFile(join(ref.dir, PORTS_FILE), JSON.stringify(r.proxy.ports));
      } else await rm(join(ref.dir, PORTS_FILE), { force: true });
    } catch (e) {
      await this.afterExit(ref.id);
      this.ipam.releaseContainer(ref.id);
      throw e;
    }
    this.register(ref, r);
    const first = r.endpoints[0].endpoint;
    return {
      nics: r.endpoints.map(({ endpoint: e }, i) => ({
        tap: e.tap,
        mac: e.mac,
        address: e.address,
        ...(i === 0 ? { gateway: e.gateway } : {}),
      })),
      dns: first.dns,
      hosts: [...new Set([ref.hostname, ref.name].filter(Boolean))].map((name) => ({ name, address: first.ip })),
    };
  }

  private register(ref: ContainerRef, r: Running): void {
    for (const { endpoint, network, aliases } of r.endpoints) {
      const dns = this.dns.get(network.id);
      for (const name of [ref.name, ref.id.slice(0, 12), ...aliases]) {
        try {
          dns?.register(name, endpoint.ip);
        } catch (e) {
          this.logger.warn({ err: e, name }, 'name not registered in DNS');
        }
      }
    }
  }

  /** The VM ended: published ports closed, DNS names dropped, TAPs deleted; the leases stay until rm. */
  async afterExit(id: string): Promise<void> {
    const r = this.running.get(id);
    this.running.delete(id);
    await r?.proxy?.close().catch(() => {});
    for (const { endpoint, network } of r?.endpoints ?? []) this.dns.get(network.id)?.unregisterAddress(endpoint.ip);
    if (!this.enabled) return;
    for (const l of this.ipam.leasesOfContainer(id)) {
      await deleteTap(tapNameFor(id, l.networkId)).catch((e) => this.logger.warn({ err: e, id }, 'TAP not deleted'));
    }
  }

  /** `rm`: the leases go too. Runs before the container's row is deleted. */
  async removed(id: string): Promise<void> {
    await this.afterExit(id);
    this.ipam.releaseContainer(id);
  }

  /** A VM that outlived the previous daemon: its TAPs re-attached, names and the same ports back. */
  async adopted(id: string): Promise<void> {
    const ref = this.ref(id);
    if (!this.enabled || !ref) return;
    const r: Running = { endpoints: [] };
    this.running.set(ref.id, r);
    for (const l of this.ipam.leasesOfContainer(ref.id)) {
      const n = this.ipam.getNetwork(l.networkId);
      if (!n) continue;
      try {
        await this.ensureUp(n);
        const endpoint = await restoreEndpoint(this.ipam, n.id, { containerId: ref.id });
        const a = this.attachmentsOf(ref).find((x) => this.matches(x.network, n));
        if (endpoint) r.endpoints.push({ endpoint, network: n, aliases: a?.aliases ?? [] });
      } catch (e) {
        this.logger.warn({ err: e, id: ref.id, network: n.name }, 'endpoint not restored');
      }
    }
    this.register(ref, r);
    const saved = await readFile(join(ref.dir, PORTS_FILE), 'utf8').catch(() => '');
    if (saved && r.endpoints.length) {
      const ports = JSON.parse(saved) as PublishedPort[];
      try {
        r.proxy = await startPortProxy({
          mappings: ports.map((p) => ({
            hostIp: p.hostIp,
            hostPort: p.hostPort,
            containerPort: p.containerPort,
            protocol: p.protocol,
          })),
          target: r.endpoints[0].endpoint.ip,
          logger: this.logger,
        });
      } catch (e) {
        this.logger.warn({ err: e, id: ref.id }, 'published ports not restored');
      }
    }
  }

  /** Published ports of a running container. */
  portsOf(id: string): readonly PublishedPort[] {
    return this.running.get(id)?.proxy?.ports ?? [];
  }

  /** `ps` PORTS: `0.0.0.0:8080->80/tcp`. */
  portsColumn(id: string): string[] {
    return this.portsOf(id).map((p) => `${p.hostIp}:${p.hostPort}->${p.containerPort}/${p.protocol}`);
  }

  /** docker inspect's NetworkSettings and HostConfig.NetworkMode for a container. */
  inspectSettings(ref: ContainerRef): { NetworkMode: string; NetworkSettings: Record<string, unknown> } {
    const ports: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
    for (const e of ref.exposedPorts) ports[e.includes('/') ? e : `${e}/tcp`] = null;
    for (const p of this.portsOf(ref.id))
      (ports[`${p.containerPort}/${p.protocol}`] ??= [])?.push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
    const networks: Record<string, unknown> = {};
    const leases = this.enabled ? this.ipam.leasesOfContainer(ref.id) : [];
    const attachments = this.enabled ? this.attachmentsOf(ref) : [];
    for (const a of attachments) {
      const n = this.ipam.getNetwork(a.network === 'default' ? DEFAULT_NETWORK : a.network);
      const lease = n && leases.find((l) => l.networkId === n.id);
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
    const first = Object.values(networks)[0] as
      | { IPAddress?: string; Gateway?: string; MacAddress?: string }
      | undefined;
    const mode = attachments[0]?.network ?? 'none';
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
  inspectNetwork(n: NetworkRecord): Record<string, unknown> {
    const ctrs: Record<string, unknown> = {};
    for (const u of this.users(n)) {
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

  /** Reads a container for the hooks. */
  ref(id: string): ContainerRef | undefined {
    const row = this.state.db.select().from(containers).where(eq(containers.id, id)).get();
    return row ? this.refOf(row) : undefined;
  }
}

/** Whether this process may make bridges and TAPs (root; CAP_NET_ADMIN alone is not checked). */
export function networkingAllowed(): boolean {
  return process.getuid?.() === 0;
}
