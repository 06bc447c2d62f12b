import { createSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type Server, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { type DnsServer, readResolvConf, startDnsServer } from './dns-server.js';
import {
  DNS_RCODE,
  DNS_TYPE,
  DnsFormatError,
  type DnsMessage,
  aRecordData,
  decodeDnsMessage,
  encodeDnsMessage,
  encodeDnsQuery,
  formatARecord,
} from './dns-wire.js';

// A fake upstream resolver on loopback (the only kind these tests talk to): it answers every A
// query with 198.51.100.7, over UDP and TCP, and counts what it saw.
const upstream = createSocket('udp4');
let upstreamTcp: Server;
let upstreamPort: number;
const seenUpstream: string[] = [];

function fakeAnswer(raw: Buffer): Buffer {
  const q = decodeDnsMessage(raw);
  seenUpstream.push(q.questions[0].name);
  const nx = q.questions[0].name.startsWith('nx.');
  return encodeDnsMessage({
    id: q.id,
    qr: true,
    rd: q.rd,
    ra: true,
    rcode: nx ? DNS_RCODE.NXDOMAIN : 0,
    questions: q.questions,
    answers: nx ? [] : [{ name: q.questions[0].name, type: 1, class: 1, ttl: 30, data: aRecordData('198.51.100.7') }],
  });
}

beforeAll(async () => {
  upstream.on('message', (m, r) => upstream.send(fakeAnswer(m), r.port, r.address));
  await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', r));
  upstreamPort = upstream.address().port;
  upstreamTcp = createServer((s) => {
    s.on('data', (d) => {
      const reply = fakeAnswer(d.subarray(2));
      const len = Buffer.alloc(2);
      len.writeUInt16BE(reply.length);
      s.write(Buffer.concat([len, reply]));
    });
  });
  await new Promise<void>((r) => upstreamTcp.listen(upstreamPort, '127.0.0.1', r));
});
afterAll(async () => {
  await new Promise<void>((r) => upstream.close(() => r()));
  await new Promise((r) => upstreamTcp.close(r));
});

const servers: DnsServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  seenUpstream.length = 0;
});

async function serve(opts: Partial<Parameters<typeof startDnsServer>[0]> = {}): Promise<DnsServer> {
  const s = await startDnsServer({
    address: '127.0.0.1',
    port: 0,
    upstreams: [{ address: '127.0.0.1', port: upstreamPort }],
    ...opts,
  });
  servers.push(s);
  return s;
}

let nextId = 1;
function ask(server: DnsServer, name: string, type: number = DNS_TYPE.A, raw?: Buffer): Promise<DnsMessage> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error(`no answer for ${name}`));
    }, 5000);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(decodeDnsMessage(m));
    });
    s.send(raw ?? encodeDnsQuery(nextId++, name, type), server.port, server.address);
  });
}

function askTcp(server: DnsServer, name: string): Promise<DnsMessage> {
  return new Promise((resolve, reject) => {
    const q = encodeDnsQuery(nextId++, name);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(q.length);
    const s = connect({ host: server.address, port: server.port }, () => s.write(Buffer.concat([len, q])));
    let buf = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        s.destroy();
        resolve(decodeDnsMessage(buf.subarray(2)));
      }
    });
    s.on('error', reject);
  });
}

const addresses = (m: DnsMessage) => m.answers.filter((a) => a.type === DNS_TYPE.A).map((a) => formatARecord(a.data));

describe('the network DNS server', () => {
  test('registered names and aliases resolve to the VM addresses, whatever the case', async () => {
    const dns = await serve();
    dns.register('web', '10.88.0.2');
    dns.register('Frontend', '10.88.0.2');
    dns.register('db', '10.88.0.3');
    const web = await ask(dns, 'web');
    expect(web).toMatchObject({ qr: true, aa: true, rcode: 0 });
    expect(addresses(web)).toEqual(['10.88.0.2']);
    expect(addresses(await ask(dns, 'FRONTEND.'))).toEqual(['10.88.0.2']);
    expect(addresses(await ask(dns, 'db'))).toEqual(['10.88.0.3']);
    expect(seenUpstream).toEqual([]);
  });

  test('a service name with several VMs answers all of them, rotating', async () => {
    const dns = await serve();
    dns.register('api', '10.88.0.4');
    dns.register('api', '10.88.0.5');
    const first = addresses(await ask(dns, 'api'));
    const second = addresses(await ask(dns, 'api'));
    expect(first.sort()).toEqual(['10.88.0.4', '10.88.0.5']);
    expect(second[0]).not.toBe(addresses(await ask(dns, 'api'))[0]);
  });

  test('AAAA of a registered name is an empty answer, not a forward; PTR names the VM', async () => {
    const dns = await serve();
    dns.register('web', '10.88.0.2');
    const aaaa = await ask(dns, 'web', DNS_TYPE.AAAA);
    expect(aaaa).toMatchObject({ rcode: 0, aa: true, answers: [] });
    const ptr = await ask(dns, '2.0.88.10.in-addr.arpa', DNS_TYPE.PTR);
    expect(ptr.answers).toHaveLength(1);
    expect(ptr.answers[0].data.toString('latin1')).toContain('web');
    expect(seenUpstream).toEqual([]);
  });

  test('other names are forwarded to the upstream resolver, over UDP and TCP', async () => {
    const dns = await serve();
    seenUpstream.length = 0;
    expect(addresses(await ask(dns, 'example.test'))).toEqual(['198.51.100.7']);
    expect((await ask(dns, 'nx.example.test')).rcode).toBe(DNS_RCODE.NXDOMAIN);
    dns.register('web', '10.88.0.2');
    expect(addresses(await askTcp(dns, 'web'))).toEqual(['10.88.0.2']);
    expect(addresses(await askTcp(dns, 'tcp.example.test'))).toEqual(['198.51.100.7']);
    expect(seenUpstream).toEqual(['example.test', 'nx.example.test', 'tcp.example.test']);
  });

  test('unregistered names stop resolving locally', async () => {
    const dns = await serve();
    dns.register('web', '10.88.0.2');
    dns.register('alias', '10.88.0.2');
    dns.register('db', '10.88.0.3');
    dns.unregisterAddress('10.88.0.2');
    expect([...dns.records().keys()]).toEqual(['db']);
    dns.unregister('db');
    expect(addresses(await ask(dns, 'db'))).toEqual(['198.51.100.7']); // forwarded now
  });

  test('a silent upstream gives SERVFAIL; garbage gets no crash', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    try {
      const dns = await serve({
        upstreams: [{ address: '127.0.0.1', port: silent.address().port }],
        upstreamTimeoutMs: 200,
      });
      expect((await ask(dns, 'slow.example.test')).rcode).toBe(DNS_RCODE.SERVFAIL);
      const garbage = Buffer.alloc(20, 0xff);
      garbage.writeUInt16BE(77, 0);
      garbage.writeUInt16BE(0x0100, 2);
      expect((await ask(dns, '', 1, garbage)).rcode).toBe(DNS_RCODE.FORMERR);
      dns.register('web', '10.88.0.2');
      expect(addresses(await ask(dns, 'web'))).toEqual(['10.88.0.2']);
    } finally {
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  test('bad names and a port in use are clear errors', async () => {
    const dns = await serve();
    expect(() => dns.register('bad name', '10.88.0.2')).toThrow(expect.objectContaining({ code: 'DNS_NAME_INVALID' }));
    await expect(serve({ port: dns.port })).rejects.toMatchObject({ code: 'DNS_PORT_IN_USE' });
  });
});

test('the host resolvers come from resolv.conf', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hypr-resolv-'));
  try {
    await writeFile(
      join(dir, 'resolv.conf'),
      '# c\nnameserver 192.0.2.53\nnameserver fe80::1\nsearch a.test b.test\noptions ndots:2\n',
    );
    expect(await readResolvConf(join(dir, 'resolv.conf'))).toEqual({
      nameservers: ['192.0.2.53'],
      search: ['a.test', 'b.test'],
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('any bytes decode or fail with DnsFormatError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      try {
        decodeDnsMessage(Buffer.from(bytes));
      } catch (e) {
        expect(e).toBeInstanceOf(DnsFormatError);
      }
    }),
    { numRuns: 3000 },
  );
});
