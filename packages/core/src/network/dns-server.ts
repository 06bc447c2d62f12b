/**
 * The resolver HYPR serves on each network's gateway, as Docker's embedded DNS: A queries for the
 * names registered on that network (container names, aliases, compose service names) are answered
 * with the VMs' addresses; every other query is relayed, byte for byte, to the host's resolvers
 * (from /etc/resolv.conf). UDP and TCP (RFC 7766 framing); over TCP forwarded queries go upstream by TCP.
 */
import { type Socket as UdpSocket, createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { type Server, type Socket, connect, createServer, isIPv4 } from 'node:net';
import { HyprError } from '../errors.js';
import { type Logger, silentLogger } from '../log.js';
import {
  DNS_CLASS_IN,
  DNS_RCODE,
  DNS_TYPE,
  type DnsMessage,
  type DnsRecord,
  aRecordData,
  decodeDnsMessage,
  encodeDnsMessage,
  encodeDnsName,
  reverseName,
} from './dns-wire.js';

export interface DnsEndpoint {
  address: string;
  port?: number;
}

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

const NAME_RE = /^[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$/;

function normalise(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
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

export async function startDnsServer(opts: StartDnsServerOptions): Promise<DnsServer> {
  const log = (opts.logger ?? silentLogger).child({ op: 'dns', address: opts.address });
  const ttl = opts.ttlSeconds ?? 60;
  const timeoutMs = opts.upstreamTimeoutMs ?? 2000;
  const names = new Map<string, string[]>();
  let rotation = 0;
  let listenPort = opts.port ?? 53;
  const configured: DnsEndpoint[] =
    opts.upstreams ?? (await readResolvConf()).nameservers.map((address) => ({ address }));
  const upstreams = configured
    .map((u) => ({ address: u.address, port: u.port ?? 53 }))
    // Never forward to ourselves.
    .filter((u) => !(u.address === opts.address && u.port === listenPort));

  /** Answers from the registry, or undefined when the query is to be forwarded. */
  const answerLocally = (q: DnsMessage): Buffer | undefined => {
    const question = q.questions[0];
    const name = normalise(question.name);
    const base = { id: q.id, qr: true, rd: q.rd, ra: true, questions: q.questions };
    if (question.type === DNS_TYPE.PTR && name.endsWith('.in-addr.arpa')) {
      for (const [n, addrs] of names) {
        if (addrs.some((a) => reverseName(a) === name)) {
          const answers: DnsRecord[] = [
            { name: question.name, type: DNS_TYPE.PTR, class: DNS_CLASS_IN, ttl, data: encodeDnsName(n) },
          ];
          return encodeDnsMessage({ ...base, aa: true, answers });
        }
      }
      return undefined;
    }
    const addrs = names.get(name);
    if (!addrs) return undefined;
    if (question.type !== DNS_TYPE.A && question.type !== DNS_TYPE.ANY) return encodeDnsMessage({ ...base, aa: true }); // the name exists, with no record of that type
    const start = rotation++ % addrs.length;
    const ordered = [...addrs.slice(start), ...addrs.slice(0, start)];
    const answers = ordered.map((a) => ({
      name: question.name,
      type: DNS_TYPE.A,
      class: DNS_CLASS_IN,
      ttl,
      data: aRecordData(a),
    }));
    return encodeDnsMessage({ ...base, aa: true, answers });
  };

  const errorReply = (q: DnsMessage | undefined, raw: Buffer, rcode: number): Buffer =>
    encodeDnsMessage({
      id: q?.id ?? (raw.length >= 2 ? raw.readUInt16BE(0) : 0),
      qr: true,
      rd: q?.rd,
      ra: true,
      rcode,
      questions: q?.questions ?? [],
    });

  const forwardUdp = async (raw: Buffer): Promise<Buffer | undefined> => {
    for (const u of upstreams) {
      const reply = await new Promise<Buffer | undefined>((resolve) => {
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
      if (reply) return reply;
      log.debug({ upstream: u }, 'upstream did not answer');
    }
    return undefined;
  };

  const forwardTcp = async (raw: Buffer): Promise<Buffer | undefined> => {
    for (const u of upstreams) {
      const reply = await new Promise<Buffer | undefined>((resolve) => {
        const s = connect({ host: u.address, port: u.port });
        let buf = Buffer.alloc(0);
        const timer = setTimeout(() => finish(undefined), timeoutMs);
        function finish(b: Buffer | undefined) {
          clearTimeout(timer);
          s.destroy();
          resolve(b);
        }
        s.on('connect', () => {
          const len = Buffer.alloc(2);
          len.writeUInt16BE(raw.length);
          s.write(Buffer.concat([len, raw]));
        });
        s.on('data', (d) => {
          buf = Buffer.concat([buf, d]);
          if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0))
            finish(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        });
        s.on('error', () => finish(undefined));
        s.on('close', () => finish(undefined));
      });
      if (reply) return reply;
    }
    return undefined;
  };

  const resolve = async (raw: Buffer, via: 'udp' | 'tcp'): Promise<Buffer | undefined> => {
    let q: DnsMessage;
    try {
      q = decodeDnsMessage(raw);
    } catch {
      return raw.length >= 12 ? errorReply(undefined, raw, DNS_RCODE.FORMERR) : undefined;
    }
    if (q.qr) return undefined; // a response sent to us: ignore
    if (q.opcode !== 0) return errorReply(q, raw, DNS_RCODE.NOTIMP);
    if (q.questions.length !== 1) return errorReply(q, raw, DNS_RCODE.FORMERR);
    const local = answerLocally(q);
    if (local) return local;
    if (upstreams.length === 0) return errorReply(q, raw, DNS_RCODE.SERVFAIL);
    const reply = via === 'udp' ? await forwardUdp(raw) : await forwardTcp(raw);
    return reply ?? errorReply(q, raw, DNS_RCODE.SERVFAIL);
  };

  const udp: UdpSocket = createSocket({ type: 'udp4', reuseAddr: false });
  udp.on('message', (msg, rinfo) => {
    resolve(msg, 'udp')
      .then((reply) => {
        if (reply) udp.send(reply, rinfo.port, rinfo.address);
      })
      .catch((e) => log.warn({ err: (e as Error).message }, 'dns query failed'));
  });
  udp.on('error', (e) => log.warn({ err: e.message }, 'dns socket error'));
  const bindFailed = (e: NodeJS.ErrnoException) =>
    new HyprError(
      e.code === 'EADDRINUSE' ? 'DNS_PORT_IN_USE' : 'DNS_LISTEN_FAILED',
      `cannot serve DNS on ${opts.address}:${listenPort}: ${e.message}`,
      e.code === 'EADDRNOTAVAIL'
        ? 'the address must be on an interface (the bridge) before the server starts'
        : undefined,
      { cause: e },
    );
  await new Promise<void>((res, rej) => {
    udp.once('error', (e) => rej(bindFailed(e)));
    udp.bind({ address: opts.address, port: listenPort, exclusive: true }, () => res());
  });
  listenPort = udp.address().port;

  let tcp: Server | undefined;
  const tcpSockets = new Set<Socket>();
  if (opts.tcp ?? true) {
    tcp = createServer((sock) => {
      tcpSockets.add(sock);
      let buf = Buffer.alloc(0);
      sock.setTimeout(10_000, () => sock.destroy());
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
          buf = buf.subarray(2 + msg.length);
          void resolve(Buffer.from(msg), 'tcp').then((reply) => {
            if (!reply || sock.destroyed) return;
            const len = Buffer.alloc(2);
            len.writeUInt16BE(reply.length);
            sock.write(Buffer.concat([len, reply]));
          });
        }
      });
      sock.on('error', () => sock.destroy());
      sock.on('close', () => tcpSockets.delete(sock));
    });
    try {
      await new Promise<void>((res, rej) => {
        tcp?.once('error', (e) => rej(bindFailed(e)));
        tcp?.listen({ host: opts.address, port: listenPort, exclusive: true }, () => res());
      });
    } catch (e) {
      udp.close();
      throw e;
    }
  }
  log.debug({ port: listenPort, upstreams }, 'dns server listening');

  let closing: Promise<void> | undefined;
  return {
    address: opts.address,
    port: listenPort,
    register(name, address) {
      const n = normalise(name);
      if (!NAME_RE.test(n)) throw new HyprError('DNS_NAME_INVALID', `${JSON.stringify(name)} is not a valid DNS name`);
      if (!isIPv4(address)) throw new HyprError('DNS_ADDRESS_INVALID', `${address} is not an IPv4 address`);
      const list = names.get(n) ?? [];
      if (!list.includes(address)) list.push(address);
      names.set(n, list);
    },
    unregister(name, address) {
      const n = normalise(name);
      if (address === undefined) {
        names.delete(n);
        return;
      }
      const list = (names.get(n) ?? []).filter((a) => a !== address);
      if (list.length) names.set(n, list);
      else names.delete(n);
    },
    unregisterAddress(address) {
      for (const [n, list] of [...names]) {
        const rest = list.filter((a) => a !== address);
        if (rest.length) names.set(n, rest);
        else names.delete(n);
      }
    },
    records: () => new Map([...names].map(([n, a]) => [n, [...a]])),
    close() {
      closing ??= (async () => {
        for (const s of tcpSockets) s.destroy();
        await Promise.all([
          new Promise<void>((r) => udp.close(() => r())),
          tcp ? new Promise<void>((r) => tcp?.close(() => r())) : undefined,
        ]);
      })();
      return closing;
    },
  };
}
