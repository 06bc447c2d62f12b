/**
 * Port mappings: the short syntax `[[HOST_IP:]HOST[-RANGE]:]CONTAINER[-RANGE][/PROTOCOL]` (IPv6 host IPs in
 * brackets) parsed as docker's nat.ParsePortSpec does, ranges of equal length expanded one port per entry.
 */
import { isIP } from 'node:net';
import { HyprError } from '../errors.js';

/** A port in the long syntax, as `docker compose config` prints it. */
export interface ComposePort {
  name?: string;
  mode: string;
  host_ip?: string;
  target: number;
  /** Host port or range (`8080`, `8000-8010`); absent when docker picks one. */
  published?: string;
  protocol: string;
  app_protocol?: string;
}

/** A short-syntax port that does not parse; the loader adds the file, line and key path. */
export class PortSyntaxError extends HyprError {
  constructor(
    readonly spec: string,
    reason: string,
  ) {
    super(
      'COMPOSE_PORT_INVALID',
      `${JSON.stringify(spec)} is not a port mapping: ${reason}`,
      'write [HOST_IP:][HOST:]CONTAINER[/PROTOCOL], for example "8080:80" or "127.0.0.1:5432:5432/tcp"',
    );
  }
}

const PROTOCOLS = ['tcp', 'udp', 'sctp'];

interface Range {
  start: number;
  end: number;
}

function parseRange(text: string, spec: string, what: string): Range {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) throw new PortSyntaxError(spec, `invalid ${what} port ${JSON.stringify(text)}`);
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start < 1 || start > 65535 || end < 1 || end > 65535) {
    throw new PortSyntaxError(spec, `${what} port ${text} is outside 1-65535`);
  }
  if (end < start) throw new PortSyntaxError(spec, `${what} port range ${text} ends before it starts`);
  return { start, end };
}

/** Splits `ip:host:container` the way docker does (everything before the last two colons is the IP). */
function splitParts(raw: string): [string, string, string] {
  const parts = raw.split(':');
  const n = parts.length;
  if (n === 1) return ['', '', parts[0]];
  if (n === 2) return ['', parts[0], parts[1]];
  if (n === 3) return [parts[0], parts[1], parts[2]];
  return [parts.slice(0, n - 2).join(':'), parts[n - 2], parts[n - 1]];
}

/** Parses one short-syntax port entry into one or more long-syntax ports. */
export function parseShortPort(input: string | number): ComposePort[] {
  const spec = String(input).trim();
  if (spec === '') throw new PortSyntaxError(spec, 'it is empty');
  let rest = spec;
  let protocol = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    protocol = rest.slice(slash + 1).toLowerCase();
    rest = rest.slice(0, slash);
    if (!PROTOCOLS.includes(protocol)) throw new PortSyntaxError(spec, `unknown protocol ${JSON.stringify(protocol)}`);
  }
  let [ip, host, container] = splitParts(rest);
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip !== '' && isIP(ip) === 0) throw new PortSyntaxError(spec, `invalid host IP ${JSON.stringify(ip)}`);
  if (container === '') throw new PortSyntaxError(spec, 'no container port');
  const c = parseRange(container, spec, 'container');
  const h = host === '' ? undefined : parseRange(host, spec, 'host');
  const base = (target: number, published?: string): ComposePort => ({
    mode: 'ingress',
    ...(ip ? { host_ip: ip } : {}),
    target,
    ...(published !== undefined ? { published } : {}),
    protocol,
  });
  const cLen = c.end - c.start;
  if (h === undefined) {
    const out: ComposePort[] = [];
    for (let p = c.start; p <= c.end; p++) out.push(base(p));
    return out;
  }
  const hLen = h.end - h.start;
  if (cLen === 0) {
    // One container port, a host range: docker picks a free host port in that range.
    return [base(c.start, hLen === 0 ? String(h.start) : `${h.start}-${h.end}`)];
  }
  if (hLen !== cLen) {
    throw new PortSyntaxError(spec, `host range ${host} and container range ${container} differ in length`);
  }
  const out: ComposePort[] = [];
  for (let k = 0; k <= cLen; k++) out.push(base(c.start + k, String(h.start + k)));
  return out;
}

/** The key two ports merge on across files (compose-go's port indexer). */
export function portKey(p: ComposePort): string {
  return `${p.host_ip ?? ''}:${p.published ?? ''}:${p.target}/${p.protocol}`;
}

/** Formats a long-syntax port back to the short syntax (for messages and tests). */
export function formatShortPort(p: ComposePort): string {
  const ip = p.host_ip ? (p.host_ip.includes(':') ? `[${p.host_ip}]:` : `${p.host_ip}:`) : '';
  const host = p.published !== undefined ? `${p.published}:` : ip ? ':' : '';
  return `${ip}${host}${p.target}/${p.protocol}`;
}
