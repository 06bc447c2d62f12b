/**
 * The docker `-p` syntax: `[IP:][HOST[-END]:]CONTAINER[-END][/PROTO]`, IPv6 host addresses in brackets.
 * As docker: no host port (or 0) means any free port; a host range against a single container port
 * means "the first free port of the range"; ranges of equal length map one to one.
 */
import { isIP } from 'node:net';
import { HyprError } from '../errors.js';

export type PortProtocol = 'tcp' | 'udp';

export interface PortMapping {
  /** Address to listen on; `0.0.0.0` when none is given. */
  hostIp: string;
  /** 0 = any free port. */
  hostPort: number;
  /** Set when the host side is a range to pick one free port from (hostPort is its start). */
  hostPortEnd?: number;
  containerPort: number;
  protocol: PortProtocol;
}

const HINT = 'write [IP:][HOST:]CONTAINER[/tcp|udp], for example "8080:80", "127.0.0.1:53:53/udp" or "8000-8009:80-89"';

function invalid(spec: string, reason: string): HyprError {
  return new HyprError('PORT_SPEC_INVALID', `${JSON.stringify(spec)} is not a port mapping: ${reason}`, HINT);
}

function parseRange(text: string, spec: string, what: string, allowZero: boolean): [number, number] {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!m) throw invalid(spec, `${what} port ${JSON.stringify(text)} is not a number or range`);
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  const min = allowZero && m[2] === undefined ? 0 : 1;
  if (start < min || start > 65535 || end < min || end > 65535)
    throw invalid(spec, `${what} port ${text} is outside ${min}-65535`);
  if (end < start) throw invalid(spec, `${what} port range ${text} ends before it starts`);
  return [start, end];
}

/** Parses one `-p` value into its mappings (one per container port). */
export function parsePortSpec(input: string): PortMapping[] {
  const spec = input.trim();
  if (spec === '') throw invalid(input, 'it is empty');
  let rest = spec;
  let protocol: PortProtocol = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const p = rest.slice(slash + 1).toLowerCase();
    if (p !== 'tcp' && p !== 'udp')
      throw invalid(spec, p === 'sctp' ? 'SCTP is not supported' : `unknown protocol ${JSON.stringify(p)}`);
    protocol = p;
    rest = rest.slice(0, slash);
  }
  let ip = '';
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0 || rest[close + 1] !== ':')
      throw invalid(spec, 'an IPv6 address in brackets must be followed by ":"');
    ip = rest.slice(1, close);
    rest = rest.slice(close + 2);
    if (isIP(ip) !== 6) throw invalid(spec, `${JSON.stringify(ip)} is not an IPv6 address`);
  }
  const parts = rest.split(':');
  let host = '';
  let container: string;
  if (ip) {
    if (parts.length !== 2) throw invalid(spec, 'expected [IPv6]:HOST:CONTAINER');
    [host, container] = parts;
  } else if (parts.length === 1) container = parts[0];
  else if (parts.length === 2) [host, container] = parts;
  else if (parts.length === 3) [ip, host, container] = parts;
  else throw invalid(spec, 'too many ":" (put an IPv6 address in brackets)');
  if (ip === '' && parts.length === 3) throw invalid(spec, 'the host IP is empty');
  if (ip && isIP(ip) === 0) throw invalid(spec, `${JSON.stringify(ip)} is not an IP address`);
  if (container === '') throw invalid(spec, 'no container port');
  const [cStart, cEnd] = parseRange(container, spec, 'container', false);
  const [hStart, hEnd] = host === '' ? [0, 0] : parseRange(host, spec, 'host', true);
  const hostIp = ip || '0.0.0.0';
  const out: PortMapping[] = [];
  const cCount = cEnd - cStart + 1;
  const hCount = hEnd - hStart + 1;
  if (host === '' || hStart === 0) {
    for (let c = cStart; c <= cEnd; c++) out.push({ hostIp, hostPort: 0, containerPort: c, protocol });
  } else if (cCount === 1 && hCount > 1) {
    out.push({ hostIp, hostPort: hStart, hostPortEnd: hEnd, containerPort: cStart, protocol });
  } else if (cCount === hCount) {
    for (let i = 0; i < cCount; i++) out.push({ hostIp, hostPort: hStart + i, containerPort: cStart + i, protocol });
  } else {
    throw invalid(spec, `host range ${host} and container range ${container} differ in length`);
  }
  return out;
}

/** Mappings for `-P`: every EXPOSEd port (`80/tcp`, `53/udp`, `8080`) on any free host port. */
export function mappingsForExposed(exposed: Iterable<string>, hostIp = '0.0.0.0'): PortMapping[] {
  const out: PortMapping[] = [];
  for (const e of exposed) {
    for (const m of parsePortSpec(e)) out.push({ ...m, hostIp });
  }
  return out;
}

/** Prints a mapping the way `docker port` does: `80/tcp -> 0.0.0.0:8080`. */
export function formatPublishedPort(p: {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: string;
}): string {
  const ip = p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp;
  return `${p.containerPort}/${p.protocol} -> ${ip}:${p.hostPort}`;
}
