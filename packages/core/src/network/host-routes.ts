/** The host's IPv4 routes (`ip -j -4 route`), read so new HYPR subnets never shadow a route the host uses. */
import { type Cidr, formatCidr, parseCidr } from './cidr.js';
import { type NetnsOptions, runIpJson } from './host-command.js';

export interface HostRoute {
  /** Destination block; `0.0.0.0/0` for the default route. */
  cidr: Cidr;
  dev?: string;
  gateway?: string;
}

interface IpRouteJson {
  dst: string;
  dev?: string;
  gateway?: string;
}

export async function readHostRoutes(opts: NetnsOptions = {}): Promise<HostRoute[]> {
  const rows = await runIpJson<IpRouteJson>(['-4', 'route', 'show'], opts);
  return rows.map((r) => ({
    cidr: r.dst === 'default' ? { network: 0, prefix: 0 } : parseCidr(r.dst.includes('/') ? r.dst : `${r.dst}/32`),
    ...(r.dev ? { dev: r.dev } : {}),
    ...(r.gateway ? { gateway: r.gateway } : {}),
  }));
}

/** The interface of the host's default route, where egress NAT sends traffic (undefined without one). */
export async function readDefaultRouteDevice(opts: NetnsOptions = {}): Promise<string | undefined> {
  return (await readHostRoutes(opts)).find((r) => r.cidr.prefix === 0)?.dev;
}

export function describeRoute(r: HostRoute): string {
  return `${formatCidr(r.cidr)}${r.dev ? ` dev ${r.dev}` : ''}`;
}
