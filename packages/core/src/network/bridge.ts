/**
 * One Linux bridge per HYPR network, holding the gateway address; created and deleted with `ip`,
 * idempotently (a bridge that exists is brought to the wanted state, a missing one is not an error
 * on delete).
 */
import { formatCidr, parseCidr, parseIpv4 } from './cidr.js';
import {
  type NetnsOptions,
  batchLineOf,
  deviceError,
  isNotFound,
  runIp,
  runIpBatch,
  runIpJson,
} from './host-command.js';

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

/**
 * Creates the bridge (or adopts the one there), gives it the gateway address and brings it up: one
 * `ip` to read the device and its addresses, one `ip -batch` for every change.
 */
export async function ensureBridge(opts: EnsureBridgeOptions): Promise<void> {
  const { name } = opts;
  const prefix = parseCidr(opts.subnet).prefix;
  parseIpv4(opts.gateway);
  let existing: (LinkInfo & AddrInfo) | undefined;
  try {
    [existing] = await runIpJson<LinkInfo & AddrInfo>(['-d', 'addr', 'show', 'dev', name], opts);
  } catch (e) {
    if (!isNotFound(e)) throw bridgeError(opts, e);
  }
  if (existing && existing.linkinfo?.info_kind !== 'bridge')
    throw deviceError(
      'NETWORK_DEVICE_CONFLICT',
      `cannot use ${name} as a bridge`,
      new Error(`a ${existing.linkinfo?.info_kind ?? 'non-bridge'} device of that name exists`),
    );
  const want = `${opts.gateway}/${prefix}`;
  const have = (existing?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
  const commands: string[][] = [];
  if (!existing) commands.push(['link', 'add', 'name', name, 'type', 'bridge']);
  if (opts.mtu) commands.push(['link', 'set', 'dev', name, 'mtu', String(opts.mtu)]);
  for (const a of have) if (a !== want) commands.push(['addr', 'del', a, 'dev', name]);
  if (!have.includes(want)) commands.push(['addr', 'add', want, 'dev', name]);
  commands.push(['link', 'set', 'dev', name, 'up']);
  try {
    await runIpBatch(commands, opts);
  } catch (e) {
    // Made here (its `link add` went through): it goes again, even when `signal` ended the setup.
    if (!existing && batchLineOf(e) !== 1) await deleteBridge(name, { netns: opts.netns }).catch(() => {});
    throw bridgeError(opts, e);
  }
}

function bridgeError(opts: EnsureBridgeOptions, e: unknown) {
  return deviceError(
    'NETWORK_BRIDGE_FAILED',
    `cannot set up bridge ${opts.name} (${formatCidr(parseCidr(opts.subnet))})`,
    e,
  );
}

/** Deletes the bridge (its TAPs are detached by the kernel); no error when it is already gone. */
export async function deleteBridge(name: string, opts: NetnsOptions = {}): Promise<void> {
  try {
    await runIp(['link', 'del', 'dev', name], opts);
  } catch (e) {
    if (!isNotFound(e)) throw deviceError('NETWORK_BRIDGE_FAILED', `cannot delete bridge ${name}`, e);
  }
}
