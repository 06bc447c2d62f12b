/**
 * The network manager: HYPR networks as a Docker user knows them, composed from core's primitives
 * (docs/networking.md); the networks themselves are NetworkRegistry's. A container holds a lease
 * on each of its networks from its first start until `rm`; its TAPs, DNS names and published
 * ports exist while it runs. What a container joins is kept in
 * its directory (attachments.ts), the ports it published too (port-publishing.ts), so a restarted
 * daemon binds the same ones.
 *
 * Bridges and TAPs need root: without it (or with daemon.json `"bridge": "none"`) containers get
 * no NIC and `-p` / `--network` are refused, never faked.
 */
import {
  type Endpoint,
  HyprError,
  type NetworkRecord,
  type PortProxy,
  type PublishedPort,
  cidrsOverlap,
  connectEndpoint,
  deleteTap,
  parseCidr,
  parsePortSpec,
  restoreEndpoint,
  startPortProxy,
  tapNameFor,
} from '@hypr/core';
import { type ContainerNetworkOptions, type ContainerRef, DEFAULT_NETWORK, saveAttachments } from './attachments.js';
import { renderNetworkSettings } from './inspect.js';
import { NetworkRegistry } from './network-registry.js';
import { mappingsOf, probePorts, readPublishedPorts, savePublishedPorts } from './port-publishing.js';

/** What the VM gets: the shape of VmConfig's network fields. */
export interface VmNetworkConfig {
  nics: { tap: string; mac: string; address: string; gateway?: string }[];
  dns: string[];
  hosts: { name: string; address: string }[];
}

interface Running {
  endpoints: { endpoint: Endpoint; network: NetworkRecord; aliases: string[] }[];
  proxy?: PortProxy;
}

export class NetworkManager extends NetworkRegistry {
  private readonly running = new Map<string, Running>();
  /** Containers whose TAPs afterExit has deleted since their last start: `rm` has none left to delete. */
  private readonly tapsDeleted = new Set<string>();

  /** Graceful stop: proxies and DNS servers closed, HYPR's nft table removed, idle bridges deleted. */
  async close(): Promise<void> {
    const busy = new Set<string>();
    for (const r of this.running.values()) {
      await r.proxy?.close().catch(() => {});
      for (const e of r.endpoints) busy.add(e.network.id);
    }
    await this.closeNetworks(busy);
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
    await saveAttachments(ref, [
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
    await saveAttachments(ref, rest.length ? rest : [{ network: 'none', aliases: [] }]);
    for (const l of this.ipam.leasesOfContainer(ref.id)) if (l.networkId === n.id) this.ipam.release(n.id, l.address);
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
    if (o.ip && !cidrsOverlap(parseCidr(n.subnet), parseCidr(`${o.ip}/32`)))
      throw new HyprError(
        'NETWORK_ADDRESS_OUT_OF_RANGE',
        `address ${o.ip} is not in subnet ${n.subnet} of network ${n.name}`,
      );
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
    if (net === DEFAULT_NETWORK && this.defaultDisabled()) {
      if (mappings.length || o.network?.publishAll) this.requireEnabled('publishing ports without --network');
      return;
    }
    const n = this.get(net);
    this.checkAttachment(n, { aliases: o.network?.aliases, ip: o.network?.ip });
    if (o.network?.ip && this.ipam.leases(n.id).some((l) => l.address === o.network?.ip))
      throw new HyprError('NETWORK_ADDRESS_IN_USE', `address ${o.network.ip} of network ${n.name} is already in use`);
    await probePorts(mappings);
  }

  /**
   * Before the VM boots: leases (kept or new), TAPs, published ports, DNS names. On failure
   * everything made here is undone and the container's leases are released: nothing is left behind.
   */
  async beforeStart(id: string): Promise<VmNetworkConfig | undefined> {
    const ref = this.ref(id);
    if (!ref) return undefined;
    const list = this.attachmentsOf(ref);
    const mappings = mappingsOf(ref);
    if (!list.length) {
      if (mappings.length)
        throw new HyprError('INVALID_ARGUMENT_CONFLICT', `container ${ref.name} has published ports but no network`);
      return undefined;
    }
    this.requireEnabled(`container ${ref.name}'s network`);
    const r: Running = { endpoints: [] };
    this.running.set(ref.id, r);
    this.tapsDeleted.delete(ref.id);
    try {
      for (const a of list) {
        const n = this.get(a.network);
        const endpoint = await this.onBridge(
          n,
          async () =>
            (await restoreEndpoint(this.ipam, n.id, { containerId: ref.id })) ??
            (await connectEndpoint(this.ipam, n.id, { containerId: ref.id, address: a.ip })),
        );
        r.endpoints.push({ endpoint, network: n, aliases: a.aliases });
      }
      if (mappings.length)
        r.proxy = await startPortProxy({ mappings, target: r.endpoints[0].endpoint.ip, logger: this.logger });
      await savePublishedPorts(ref, r.proxy?.ports);
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
    let deleted = true;
    for (const l of this.ipam.leasesOfContainer(id)) {
      await deleteTapOnceFree(tapNameFor(id, l.networkId)).catch((e) => {
        deleted = false;
        this.logger.warn({ err: e, id }, 'TAP not deleted');
      });
    }
    if (deleted) this.tapsDeleted.add(id);
  }

  /**
   * `rm`: the leases go too. Runs before the container's row is deleted, after the container's
   * processes have ended (the lifecycle releases them first): an address is never handed out while
   * a VM still uses it. TAPs the exit deleted are not deleted again (a `--rm` exit is both).
   */
  async removed(id: string): Promise<void> {
    if (!this.tapsDeleted.delete(id)) await this.afterExit(id);
    this.tapsDeleted.delete(id);
    this.ipam.releaseContainer(id);
  }

  /** A VM that outlived the previous daemon: its TAPs re-attached, names and the same ports back. */
  async adopted(id: string): Promise<void> {
    const ref = this.ref(id);
    if (!this.enabled || !ref) return;
    const r: Running = { endpoints: [] };
    this.running.set(ref.id, r);
    this.tapsDeleted.delete(ref.id);
    for (const l of this.ipam.leasesOfContainer(ref.id)) {
      const n = this.ipam.getNetwork(l.networkId);
      if (!n) continue;
      try {
        const endpoint = await this.onBridge(n, () => restoreEndpoint(this.ipam, n.id, { containerId: ref.id }));
        const a = this.attachmentsOf(ref).find((x) => this.matches(x.network, n));
        if (endpoint) r.endpoints.push({ endpoint, network: n, aliases: a?.aliases ?? [] });
      } catch (e) {
        this.logger.warn({ err: e, id: ref.id, network: n.name }, 'endpoint not restored');
      }
    }
    this.register(ref, r);
    const mappings = await readPublishedPorts(ref);
    if (mappings.length && r.endpoints.length) {
      try {
        r.proxy = await startPortProxy({ mappings, target: r.endpoints[0].endpoint.ip, logger: this.logger });
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
    return renderNetworkSettings({
      ref,
      attachments: this.enabled ? this.attachmentsOf(ref) : [],
      leases: this.enabled ? this.ipam.leasesOfContainer(ref.id) : [],
      ports: this.portsOf(ref.id),
      network: (name) => this.ipam.getNetwork(name),
    });
  }
}

/**
 * Deletes a TAP. "Device or resource busy" means a hypervisor still holds it open — one that is
 * ending (the caller has made sure it ends): try again for a few seconds.
 */
async function deleteTapOnceFree(name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await deleteTap(name);
    } catch (e) {
      if (attempt >= 10 || !/busy/i.test(String((e as Error).message))) throw e;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

/** Whether this process may make bridges and TAPs (root; CAP_NET_ADMIN alone is not checked). */
export function networkingAllowed(): boolean {
  return process.getuid?.() === 0;
}
