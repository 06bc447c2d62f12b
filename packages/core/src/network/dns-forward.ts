import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { connect, isIPv4 } from 'node:net';
import type { Logger } from '../log.js';

// Relaying a query the resolver does not answer itself: to each upstream in turn, raw bytes out and
// back, over the transport it came in on (UDP, or TCP with RFC 7766 length framing).

export interface DnsEndpoint {
  address: string;
  port?: number;
}

export interface DnsUpstream {
  address: string;
  port: number;
}

/** Nameservers and search domains of a resolv.conf (IPv4 nameservers only). */
export async function readResolvConf(path = '/etc/resolv.conf'): Promise<{ nameservers: string[]; search: string[] }> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const nameservers: string[] = [];
  const search: string[] = [];
  for (const line of text.split('\n')) {
    const [key, ...rest] = line.trim().split(/\s+/);
    if (key === 'nameserver' && rest[0] && isIPv4(rest[0])) nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') search.push(...rest);
  }
  return { nameservers, search };
}

/** A DNS message with its two-byte length in front, as DNS over TCP frames it. */
export function frameTcp(msg: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length);
  return Buffer.concat([len, msg]);
}

function askUdp(u: DnsUpstream, raw: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    function finish(b: Buffer | undefined) {
      clearTimeout(timer);
      s.close();
      resolve(b);
    }
    s.on('error', () => finish(undefined));
    s.on('message', (m, rinfo) => {
      if (rinfo.address === u.address && m.length >= 2 && m.readUInt16BE(0) === raw.readUInt16BE(0)) finish(m);
    });
    s.send(raw, u.port, u.address);
  });
}

function askTcp(u: DnsUpstream, raw: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const s = connect({ host: u.address, port: u.port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    function finish(b: Buffer | undefined) {
      clearTimeout(timer);
      s.destroy();
      resolve(b);
    }
    s.on('connect', () => s.write(frameTcp(raw)));
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) finish(buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
    s.on('error', () => finish(undefined));
    s.on('close', () => finish(undefined));
  });
}

/** The first upstream's reply to `raw`, or undefined when none answers within `timeoutMs` each. */
export async function forwardDnsQuery(
  raw: Buffer,
  via: 'udp' | 'tcp',
  upstreams: readonly DnsUpstream[],
  timeoutMs: number,
  log: Logger,
): Promise<Buffer | undefined> {
  for (const u of upstreams) {
    const reply = via === 'udp' ? await askUdp(u, raw, timeoutMs) : await askTcp(u, raw, timeoutMs);
    if (reply) return reply;
    log.debug({ upstream: u, via }, 'upstream did not answer');
  }
  return undefined;
}
