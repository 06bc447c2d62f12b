/**
 * IPv4 addresses and CIDR blocks as unsigned 32-bit integers: parse, print, contain, overlap.
 * HYPR networks are IPv4 only for now; IPv6 input is refused with a clear error.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { HyprError } from '../errors.js';

export interface Cidr {
  /** Network address (host bits zero). */
  network: number;
  prefix: number;
}

export function parseIpv4(text: string): number {
  if (!isIPv4(text)) {
    if (isIPv6(text))
      throw new HyprError('NETWORK_IPV6_UNSUPPORTED', `${text} is an IPv6 address`, 'HYPR networks are IPv4 only');
    throw new HyprError('NETWORK_ADDRESS_INVALID', `${JSON.stringify(text)} is not an IPv4 address`);
  }
  return text.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function prefixMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses `10.88.0.0/16`; `strict` refuses host bits set (`10.88.0.1/16`), as `docker network create` does. */
export function parseCidr(text: string, opts: { strict?: boolean } = {}): Cidr {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text.trim());
  if (!m)
    throw new HyprError(
      'NETWORK_SUBNET_INVALID',
      `${JSON.stringify(text)} is not a subnet in CIDR form`,
      'write it as 10.90.0.0/16',
    );
  const addr = parseIpv4(m[1]);
  const prefix = Number(m[2]);
  if (prefix > 32) throw new HyprError('NETWORK_SUBNET_INVALID', `${text}: prefix length ${prefix} is over 32`);
  const network = (addr & prefixMask(prefix)) >>> 0;
  if (opts.strict && network !== addr)
    throw new HyprError(
      'NETWORK_SUBNET_INVALID',
      `${text} has host bits set`,
      `did you mean ${formatIpv4(network)}/${prefix}?`,
    );
  return { network, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIpv4(c.network)}/${c.prefix}`;
}

export function cidrSize(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

/** Last address of the block (the broadcast address for prefixes under 31). */
export function cidrLast(c: Cidr): number {
  return c.network + cidrSize(c) - 1;
}

export function cidrContains(c: Cidr, addr: number): boolean {
  return addr >= c.network && addr <= cidrLast(c);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.network <= cidrLast(b) && b.network <= cidrLast(a);
}

/** `b` lies entirely inside `a`. */
export function cidrWithin(a: Cidr, b: Cidr): boolean {
  return b.network >= a.network && cidrLast(b) <= cidrLast(a);
}
