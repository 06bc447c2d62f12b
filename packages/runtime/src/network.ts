/**
 * The engine's network, taken over by the VM as Kata's tc-filter mode does. The engine (its CNI
 * plugins, Podman's network stack) made a network namespace, put a veth in it and gave that an
 * address; config.json names the namespace (linux.namespaces, type network, path). For each such
 * interface a TAP is added in the namespace, tc redirects every frame between the two, and the VM's
 * NIC takes the veth's MAC, address and default gateway. The hypervisor runs in the namespace, so
 * it opens the TAP there; `-p` and pod networking reach the VM unchanged.
 */
import { basename, dirname } from 'node:path';
import { HyprError } from '@hypr/core/errors';
import { type NetnsOptions, deviceError, runInNetns, runIp, runIpJson } from '@hypr/core/network';

export interface VmNic {
  tap: string;
  mac: string;
  /** address/prefix */
  address: string;
  gateway?: string;
}

export interface VmNetwork {
  /** The namespace's name under /run/netns, for `ip netns exec`. */
  netns: string;
  nics: VmNic[];
  /** Removes the TAPs (and the name it gave the namespace, if any). */
  release(): Promise<void>;
}

interface IpLink {
  ifname: string;
  address?: string;
  link_type?: string;
  mtu?: number;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

interface IpRoute {
  gateway?: string;
  dev?: string;
}

const NETNS_DIRS = ['/run/netns', '/var/run/netns'];

/** A name `ip netns exec` takes: the file's own under /run/netns, or one given to /proc/PID/ns/net. */
async function nameNamespace(path: string, id: string): Promise<{ name: string; release(): Promise<void> }> {
  if (NETNS_DIRS.includes(dirname(path))) return { name: basename(path), release: async () => {} };
  const pid = /^\/proc\/(\d+)\/ns\/net$/.exec(path)?.[1];
  if (!pid)
    throw new HyprError(
      'NETWORK_MODE_UNSUPPORTED',
      `network namespace ${path}: give a path under /run/netns or /proc/PID/ns/net`,
    );
  const name = `hyprrt-${id.slice(0, 20)}`;
  await runIp(['netns', 'attach', name, pid]);
  return { name, release: () => runIp(['netns', 'delete', name]).then(() => undefined) };
}

/** Every frame arriving on `from` leaves through `to`. */
async function redirect(from: string, to: string, opts: NetnsOptions): Promise<void> {
  await runInNetns('tc', ['qdisc', 'add', 'dev', from, 'ingress'], { ...opts, packageHint: 'iproute2' });
  const filter = ['filter', 'add', 'dev', from, 'parent', 'ffff:', 'protocol', 'all', 'u32', 'match', 'u8', '0', '0'];
  await runInNetns('tc', [...filter, 'action', 'mirred', 'egress', 'redirect', 'dev', to], opts);
}

/**
 * Connects the VM to the namespace's interfaces; undefined when it has none with an IPv4 address
 * (Podman's `--network none` gives a namespace with only `lo`).
 */
export async function takeOverNetwork(path: string, id: string): Promise<VmNetwork | undefined> {
  const ns = await nameNamespace(path, id);
  const opts = { netns: ns.name };
  const taps: string[] = [];
  const release = async () => {
    for (const tap of taps) await runIp(['link', 'del', 'dev', tap], opts).catch(() => undefined);
    await ns.release().catch(() => undefined);
  };
  try {
    const links = (await runIpJson<IpLink>(['addr', 'show'], opts)).filter(
      (l) => l.link_type === 'ether' && l.address && l.addr_info?.some((a) => a.family === 'inet'),
    );
    if (links.length === 0) {
      await release();
      return undefined;
    }
    const routes = await runIpJson<IpRoute>(['route', 'show', 'default'], opts);
    const nics: VmNic[] = [];
    for (const [i, link] of links.entries()) {
      const tap = `hyprtap${i}`;
      const inet = link.addr_info?.find((a) => a.family === 'inet');
      await runIp(['tuntap', 'add', 'dev', tap, 'mode', 'tap'], opts);
      taps.push(tap);
      if (link.mtu) await runIp(['link', 'set', 'dev', tap, 'mtu', String(link.mtu)], opts);
      await runIp(['link', 'set', 'dev', tap, 'up'], opts);
      await redirect(link.ifname, tap, opts);
      await redirect(tap, link.ifname, opts);
      const gateway = routes.find((r) => r.dev === link.ifname)?.gateway;
      nics.push({ tap, mac: link.address ?? '', address: `${inet?.local}/${inet?.prefixlen}`, gateway });
    }
    return { netns: ns.name, nics, release };
  } catch (e) {
    await release();
    throw e instanceof HyprError && !(e.code === 'PROCESS_FAILED')
      ? e
      : deviceError('NETWORK_TAP_FAILED', `cannot connect the VM to the network namespace ${path}`, e);
  }
}
