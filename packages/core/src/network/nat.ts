/**
 * Egress NAT and isolation with nftables, in HYPR's own table `ip hypr` (nothing else on the host
 * is touched). Two base chains, `postrouting` (nat) and `forward` (filter), hold one jump or
 * masquerade rule per network, tagged with a `hypr-net:<id>` comment; each network's forward rules
 * live in its own chain `fwd-<bridge>` so they can be replaced or removed in one transaction.
 *
 * As Docker: a network's VMs reach each other and the outside world (masqueraded behind the host's
 * address); nothing from outside starts a connection into a network (published ports go through the
 * userspace proxy instead); traffic between two HYPR networks is dropped; an `internal` network only
 * talks within itself (and to the gateway, where the DNS server listens).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { HyprError } from '../errors.js';
import { ProcessError } from '../process.js';
import { formatCidr, parseCidr } from './cidr.js';
import { type NetnsOptions, runInNetns } from './host-command.js';

export const NFT_TABLE = 'hypr';
/** Every HYPR bridge starts with this; nftables matches it as the wildcard `hypr-*`. */
const BRIDGE_WILDCARD = '"hypr-*"';

export interface NetworkRules {
  id: string;
  bridge: string;
  subnet: string;
  internal: boolean;
}

interface NftRule {
  family: string;
  table: string;
  chain: string;
  handle: number;
  comment?: string;
}

interface NftChain {
  family: string;
  table: string;
  name: string;
}

type NftItem = { rule?: NftRule; chain?: NftChain; table?: { family: string; name: string } };

async function nft(args: readonly string[], opts: NetnsOptions & { input?: string } = {}): Promise<string> {
  try {
    return await runInNetns('nft', args, { ...opts, packageHint: 'nftables' });
  } catch (e) {
    const detail = e instanceof ProcessError ? e.stderrTail.trim() || e.message : (e as Error).message;
    throw new HyprError(
      'NETWORK_NFT_FAILED',
      `nft ${args.join(' ')}: ${detail}`,
      /Operation not permitted/i.test(detail) ? 'nftables rules need root (or CAP_NET_ADMIN)' : undefined,
      { cause: e },
    );
  }
}

async function listTable(opts: NetnsOptions): Promise<NftItem[]> {
  try {
    const out = await nft(['-j', 'list', 'table', 'ip', NFT_TABLE], opts);
    return (JSON.parse(out) as { nftables: NftItem[] }).nftables;
  } catch (e) {
    if (/No such file or directory/.test((e as Error).message)) return [];
    throw e;
  }
}

function chainName(bridge: string): string {
  return `fwd-${bridge}`;
}

function tag(id: string): string {
  return `"hypr-net:${id.slice(0, 12)}"`;
}

const BASE = `table ip ${NFT_TABLE} {
  chain postrouting { type nat hook postrouting priority srcnat; policy accept; }
  chain forward { type filter hook forward priority filter; policy accept; }
}
`;

/** nft statements deleting a network's rules from a listing of the table. */
function removalScript(items: NftItem[], n: Pick<NetworkRules, 'id' | 'bridge'>): string {
  const lines: string[] = [];
  const comment = tag(n.id).slice(1, -1);
  for (const { rule } of items) {
    if (rule && rule.comment === comment && (rule.chain === 'forward' || rule.chain === 'postrouting'))
      lines.push(`delete rule ip ${NFT_TABLE} ${rule.chain} handle ${rule.handle}`);
  }
  if (items.some((i) => i.chain?.name === chainName(n.bridge))) {
    lines.push(`flush chain ip ${NFT_TABLE} ${chainName(n.bridge)}`);
    lines.push(`delete chain ip ${NFT_TABLE} ${chainName(n.bridge)}`);
  }
  return lines.join('\n');
}

/** nft statements adding a network's chain and rules (the table and base chains must exist). */
export function networkRulesScript(n: NetworkRules): string {
  const br = `"${n.bridge}"`;
  const subnet = formatCidr(parseCidr(n.subnet));
  const chain = chainName(n.bridge);
  const body = n.internal
    ? [`iifname ${br} oifname ${br} accept`, 'drop']
    : [
        `iifname ${br} oifname ${br} accept`,
        `iifname ${br} oifname ${BRIDGE_WILDCARD} drop`,
        `oifname ${br} iifname ${BRIDGE_WILDCARD} drop`,
        `iifname ${br} accept`,
        `oifname ${br} ct state established,related accept`,
        `oifname ${br} drop`,
      ];
  const lines = [
    `add chain ip ${NFT_TABLE} ${chain}`,
    ...body.map((r) => `add rule ip ${NFT_TABLE} ${chain} ${r}`),
    `add rule ip ${NFT_TABLE} forward iifname ${br} jump ${chain} comment ${tag(n.id)}`,
    `add rule ip ${NFT_TABLE} forward oifname ${br} jump ${chain} comment ${tag(n.id)}`,
  ];
  if (!n.internal)
    lines.push(
      `add rule ip ${NFT_TABLE} postrouting ip saddr ${subnet} oifname != ${br} masquerade comment ${tag(n.id)}`,
    );
  return `${lines.join('\n')}\n`;
}

/**
 * Installs (or replaces) a network's NAT and isolation rules in one nft transaction (the old ones
 * are deleted in the same file, so there is no moment without rules), and turns on IPv4
 * forwarding when the network has egress.
 */
export async function applyNetworkRules(n: NetworkRules, opts: NetnsOptions = {}): Promise<void> {
  const removal = removalScript(await listTable(opts), n);
  await nft(['-f', '-'], { ...opts, input: `${BASE}${removal ? `${removal}\n` : ''}${networkRulesScript(n)}` });
  if (!n.internal) await enableIpv4Forwarding(opts);
}

/** Removes a network's rules; no error when they (or the table) are already gone. */
export async function removeNetworkRules(
  n: Pick<NetworkRules, 'id' | 'bridge'>,
  opts: NetnsOptions = {},
): Promise<void> {
  const items = await listTable(opts);
  const script = removalScript(items, n);
  if (script) await nft(['-f', '-'], { ...opts, input: `${script}\n` });
}

/** Deletes HYPR's whole table (on daemon stop or reset); no error when there is none. */
export async function removeAllHyprRules(opts: NetnsOptions = {}): Promise<void> {
  for (const family of ['ip', 'inet']) {
    try {
      await nft(['delete', 'table', family, NFT_TABLE], opts);
    } catch (e) {
      if (!/No such file or directory/.test((e as Error).message)) throw e;
    }
  }
}

/** The names of the networks' chains present in HYPR's table (for tests and reconcile). */
export async function listRuleChains(opts: NetnsOptions = {}): Promise<string[]> {
  return (await listTable(opts)).flatMap((i) => (i.chain ? [i.chain.name] : []));
}

/**
 * Sets net.ipv4.ip_forward=1 (in `netns` when given), as Docker does for its bridges. Written to
 * /proc directly (no dependency on procps' sysctl); /proc/sys/net belongs to the writer's namespace,
 * hence a shell under `ip netns exec` for another one.
 */
export async function enableIpv4Forwarding(opts: NetnsOptions = {}): Promise<void> {
  const path = '/proc/sys/net/ipv4/ip_forward';
  try {
    if (opts.netns) await runInNetns('sh', ['-c', `echo 1 > ${path}`], opts);
    else if ((await readFile(path, 'utf8')).trim() !== '1') await writeFile(path, '1\n');
  } catch (e) {
    throw new HyprError(
      'NETWORK_FORWARDING_FAILED',
      `cannot enable IPv4 forwarding: ${(e as Error).message}`,
      'needs root',
      {
        cause: e,
      },
    );
  }
}
