/**
 * The resolver HYPR serves on each network's gateway, as Docker's embedded DNS: A queries for the
 * names registered on that network (container names, aliases, compose service names) are answered
 * with the VMs' addresses (dns-records.ts); every other query is relayed, byte for byte, to the
 * host's resolvers from /etc/resolv.conf (dns-forward.ts). UDP and TCP (RFC 7766 framing); over TCP
 * forwarded queries go upstream by TCP.
 */
import { type Socket as UdpSocket, createSocket } from 'node:dgram';
import { type Server, type Socket, createServer } from 'node:net';
import { HyprError } from '../errors.js';
import { type Logger, silentLogger } from '../log.js';
import { type DnsEndpoint, type DnsUpstream, forwardDnsQuery, frameTcp, readResolvConf } from './dns-forward.js';
import { DnsRecords } from './dns-records.js';
import { DNS_RCODE, type DnsMessage, decodeDnsMessage, encodeDnsMessage } from './dns-wire.js';

export { type DnsEndpoint, readResolvConf } from './dns-forward.js';

export interface StartDnsServerOptions {
  /** Address to listen on (a network's gateway). */
  address: string;
  /** 53 unless given (0 = any free port, for tests). */
  port?: number;
  /** Resolvers for names not registered; absent = the nameservers of /etc/resolv.conf. */
  upstreams?: DnsEndpoint[];
  ttlSeconds?: number;
  upstreamTimeoutMs?: number;
  /** Serve TCP too (default true). */
  tcp?: boolean;
  logger?: Logger;
}

export interface DnsServer {
  /** Where it listens (the port picked when 0 was asked). */
  readonly address: string;
  readonly port: number;
  /** Adds `address` to the A records of `name` (case-insensitive; several addresses round-robin). */
  register(name: string, address: string): void;
  /** Removes `name` (only its `address` record, when given). */
  unregister(name: string, address?: string): void;
  /** Removes every name pointing at `address` (a VM that left the network). */
  unregisterAddress(address: string): void;
  /** Current records: name → addresses. */
  records(): Map<string, string[]>;
  close(): Promise<void>;
}

type Resolve = (raw: Buffer, via: 'udp' | 'tcp') => Promise<Buffer | undefined>;

function errorReply(q: DnsMessage | undefined, raw: Buffer, rcode: number): Buffer {
  return encodeDnsMessage({
    id: q?.id ?? (raw.length >= 2 ? raw.readUInt16BE(0) : 0),
    qr: true,
    rd: q?.rd,
    ra: true,
    rcode,
    questions: q?.questions ?? [],
  });
}

/** Query → reply: from the records, else from an upstream, else an error code; undefined = no reply. */
function createResolver(records: DnsRecords, upstreams: DnsUpstream[], timeoutMs: number, log: Logger): Resolve {
  return async (raw, via) => {
    let q: DnsMessage;
    try {
      q = decodeDnsMessage(raw);
    } catch {
      return raw.length >= 12 ? errorReply(undefined, raw, DNS_RCODE.FORMERR) : undefined;
    }
    if (q.qr) return undefined; // a response sent to us: ignore
    if (q.opcode !== 0) return errorReply(q, raw, DNS_RCODE.NOTIMP);
    if (q.questions.length !== 1) return errorReply(q, raw, DNS_RCODE.FORMERR);
    const local = records.answer(q);
    if (local) return local;
    if (upstreams.length === 0) return errorReply(q, raw, DNS_RCODE.SERVFAIL);
    return (await forwardDnsQuery(raw, via, upstreams, timeoutMs, log)) ?? errorReply(q, raw, DNS_RCODE.SERVFAIL);
  };
}

function bindError(address: string, port: number, e: NodeJS.ErrnoException): HyprError {
  return new HyprError(
    e.code === 'EADDRINUSE' ? 'DNS_PORT_IN_USE' : 'DNS_LISTEN_FAILED',
    `cannot serve DNS on ${address}:${port}: ${e.message}`,
    e.code === 'EADDRNOTAVAIL'
      ? 'the address must be on an interface (the bridge) before the server starts'
      : undefined,
    { cause: e },
  );
}

async function listenUdp(address: string, port: number, resolve: Resolve, log: Logger): Promise<UdpSocket> {
  const udp = createSocket({ type: 'udp4', reuseAddr: false });
  udp.on('message', (msg, rinfo) => {
    resolve(msg, 'udp')
      .then((reply) => {
        if (reply) udp.send(reply, rinfo.port, rinfo.address);
      })
      .catch((e) => log.warn({ err: (e as Error).message }, 'dns query failed'));
  });
  udp.on('error', (e) => log.warn({ err: e.message }, 'dns socket error'));
  await new Promise<void>((res, rej) => {
    udp.once('error', (e) => rej(bindError(address, port, e)));
    udp.bind({ address, port, exclusive: true }, () => res());
  });
  return udp;
}

/** DNS over TCP: length-framed queries, several per connection, idle connections closed after 10 s. */
async function listenTcp(
  address: string,
  port: number,
  resolve: Resolve,
): Promise<{ server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    let buf = Buffer.alloc(0);
    sock.setTimeout(10_000, () => sock.destroy());
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        void resolve(Buffer.from(msg), 'tcp').then((reply) => {
          if (reply && !sock.destroyed) sock.write(frameTcp(reply));
        });
      }
    });
    sock.on('error', () => sock.destroy());
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise<void>((res, rej) => {
    server.once('error', (e) => rej(bindError(address, port, e)));
    server.listen({ host: address, port, exclusive: true }, () => res());
  });
  return { server, sockets };
}

export async function startDnsServer(opts: StartDnsServerOptions): Promise<DnsServer> {
  const log = (opts.logger ?? silentLogger).child({ op: 'dns', address: opts.address });
  const records = new DnsRecords(opts.ttlSeconds ?? 60);
  const configured: DnsEndpoint[] =
    opts.upstreams ?? (await readResolvConf()).nameservers.map((address) => ({ address }));
  const upstreams = configured
    .map((u) => ({ address: u.address, port: u.port ?? 53 }))
    // Never forward to ourselves.
    .filter((u) => !(u.address === opts.address && u.port === (opts.port ?? 53)));
  const resolve = createResolver(records, upstreams, opts.upstreamTimeoutMs ?? 2000, log);

  const udp = await listenUdp(opts.address, opts.port ?? 53, resolve, log);
  const port = udp.address().port;
  let tcp: { server: Server; sockets: Set<Socket> } | undefined;
  if (opts.tcp ?? true) {
    try {
      tcp = await listenTcp(opts.address, port, resolve);
    } catch (e) {
      udp.close();
      throw e;
    }
  }
  log.debug({ port, upstreams }, 'dns server listening');

  let closing: Promise<void> | undefined;
  return {
    address: opts.address,
    port,
    register: (name, address) => records.register(name, address),
    unregister: (name, address) => records.unregister(name, address),
    unregisterAddress: (address) => records.unregisterAddress(address),
    records: () => records.snapshot(),
    close() {
      closing ??= (async () => {
        for (const s of tcp?.sockets ?? []) s.destroy();
        await Promise.all([
          new Promise<void>((r) => udp.close(() => r())),
          tcp ? new Promise<void>((r) => tcp?.server.close(() => r())) : undefined,
        ]);
      })();
      return closing;
    },
  };
}
