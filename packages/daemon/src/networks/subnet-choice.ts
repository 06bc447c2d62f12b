import {
  type AddressPool,
  DEFAULT_ADDRESS_POOLS,
  HyprError,
  type NetworkRecord,
  candidateSubnets,
  cidrsOverlap,
  formatCidr,
  parseCidr,
  readHostRoutes,
} from '@hypr/core';

/**
 * The subnet of a new network. A given one must not overlap another HYPR daemon's bridge; without
 * one the first block of the pools clear of every host route is chosen, other daemons' bridges
 * included (IPAM alone skips all `hypr-*` routes as its own). Undefined: none free (IPAM then
 * reports NETWORK_POOL_EXHAUSTED).
 */
export async function chooseSubnet(
  given: string | undefined,
  existing: readonly NetworkRecord[],
  pools: readonly AddressPool[] = DEFAULT_ADDRESS_POOLS,
): Promise<string | undefined> {
  const mine = new Set(existing.map((n) => n.bridge));
  const routes = await readHostRoutes();
  if (given) {
    const c = parseCidr(given);
    const hit = routes.find(
      (r) => r.cidr.prefix > 0 && r.dev?.startsWith('hypr-') && !mine.has(r.dev) && cidrsOverlap(c, r.cidr),
    );
    if (hit)
      throw new HyprError(
        'NETWORK_SUBNET_OVERLAP',
        `subnet ${given} overlaps ${formatCidr(hit.cidr)} of bridge ${hit.dev} (another HYPR daemon's network)`,
        'pick another subnet',
      );
    return given;
  }
  const taken = [
    ...existing.map((n) => parseCidr(n.subnet)),
    ...routes.filter((r) => r.cidr.prefix > 0 && !mine.has(r.dev ?? '')).map((r) => r.cidr),
  ];
  for (const c of candidateSubnets(pools)) if (!taken.some((t) => cidrsOverlap(c, t))) return formatCidr(c);
  return undefined;
}
