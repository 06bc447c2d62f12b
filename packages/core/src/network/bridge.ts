/**
 * One Linux bridge per HYPR network, holding the gateway address; created and deleted with `ip`,
 * idempotently (a bridge that exists is brought to the wanted state, a missing one is not an error
 * on delete).
 */
import { formatCidr, parseCidr, parseIpv4 } from './cidr.js';
import { type NetnsOptions, deviceError, isNotFound, runIp, runIpJson } from './host-command.js';

export interface LinkInfo {
  ifname: string;
  operstate?: string;
  flags?: string[];
  master?: string;
  address?: string;
  mtu?: number;
  linkinfo?: { info_kind?: string; info_data?: { type?: string } };
}

interface AddrInfo {
  ifname: string;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

export interface EnsureBridgeOptions extends NetnsOptions {
  name: string;
  /** `10.88.0.1` */
  gateway: string;
  /** `10.88.0.0/16`: the bridge gets gateway/prefix. */
  subnet: string;
  mtu?: number;
}

/** The link, or undefined when no device has this name. */
export async function readLink(name: string, opts: NetnsOptions = {}): Promise<LinkInfo | undefined> {
  try {
    const [link] = await runIpJson<LinkInfo>(['-d', 'link', 'show', 'dev', name], opts);
    return link;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** Every link whose name starts with `prefix` (HYPR's are `hypr-` bridges and `hyprt` TAPs). */
export async function listLinks(prefix: string, opts: NetnsOptions = {}): Promise<LinkInfo[]> {
  const links = await runIpJson<LinkInfo>(['-d', 'link', 'show'], opts);
  return links.filter((l) => l.ifname.startsWith(prefix));
}

/** Creates the bridge (or adopts the one there), gives it the gateway address and brings it up. */
export async function ensureBridge(opts: EnsureBridgeOptions): Promise<void> {
  const { name } = opts;
  const prefix = parseCidr(opts.subnet).prefix;
  parseIpv4(opts.gateway);
  const existing = await readLink(name, opts);
  let created = false;
  try {
    if (!existing) {
      await runIp(['link', 'add', 'name', name, 'type', 'bridge'], opts);
      created = true;
    } else if (existing.linkinfo?.info_kind !== 'bridge') {
      throw deviceError(
        'NETWORK_DEVICE_CONFLICT',
        `cannot use ${name} as a bridge`,
        new Error(`a ${existing.linkinfo?.info_kind ?? 'non-bridge'} device of that name exists`),
      );
    }
    if (opts.mtu) await runIp(['link', 'set', 'dev', name, 'mtu', String(opts.mtu)], opts);
    const [addrs] = await runIpJson<AddrInfo>(['-4', 'addr', 'show', 'dev', name], opts);
    const want = `${opts.gateway}/${prefix}`;
    const have = (addrs?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
    for (const a of have) if (a !== want) await runIp(['addr', 'del', a, 'dev', name], opts);
    if (!have.includes(want)) await runIp(['addr', 'add', want, 'dev', name], opts);
    await runIp(['link', 'set', 'dev', name, 'up'], opts);
  } catch (e) {
    if (created) await deleteBridge(name, opts).catch(() => {});
    if (e instanceof Error && 'code' in e && (e as { code: string }).code === 'NETWORK_DEVICE_CONFLICT') throw e;
    throw deviceError(
      'NETWORK_BRIDGE_FAILED',
      `cannot set up bridge ${name} (${formatCidr(parseCidr(opts.subnet))})`,
      e,
    );
  }
}

/** Deletes the bridge (its TAPs are detached by the kernel); no error when it is already gone. */
export async function deleteBridge(name: string, opts: NetnsOptions = {}): Promise<void> {
  try {
    await runIp(['link', 'del', 'dev', name], opts);
  } catch (e) {
    if (!isNotFound(e)) throw deviceError('NETWORK_BRIDGE_FAILED', `cannot delete bridge ${name}`, e);
  }
}
