import { createSocket } from 'node:dgram';
import { type AddressInfo, type Server, connect, createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type PortProxy, startPortProxy } from './port-proxy.js';
import { parsePortSpec } from './port-spec.js';

// Everything on 127.0.0.1: the "VM" is an echo server on loopback.
let echo: Server;
let echoPort: number;
let udpEcho: ReturnType<typeof createSocket>;
let udpPort: number;
const proxies: PortProxy[] = [];
const servers: Server[] = [];

beforeEach(async () => {
  echo = createServer({ allowHalfOpen: true }, (s) => {
    const chunks: Buffer[] = [];
    s.on('data', (b) => chunks.push(b));
    s.on('end', () => s.end(Buffer.concat(chunks).toString().toUpperCase()));
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as AddressInfo).port;
  udpEcho = createSocket('udp4');
  udpEcho.on('message', (m, r) => udpEcho.send(Buffer.from(`echo:${m}`), r.port, r.address));
  await new Promise<void>((r) => udpEcho.bind(0, '127.0.0.1', r));
  udpPort = udpEcho.address().port;
});
afterEach(async () => {
  for (const p of proxies.splice(0)) await p.close();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  await new Promise((r) => echo.close(r));
  await new Promise<void>((r) => udpEcho.close(() => r()));
});

function tcpRequest(port: number, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => s.end(body));
    const chunks: Buffer[] = [];
    s.on('data', (b) => chunks.push(b));
    s.on('end', () => resolve(Buffer.concat(chunks).toString()));
    s.on('error', reject);
  });
}

function udpRequest(port: number, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error('no UDP reply'));
    }, 3000);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m.toString());
    });
    s.send(body, port, '127.0.0.1');
  });
}

async function occupy(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  servers.push(s);
  return (s.address() as AddressInfo).port;
}

async function isFree(port: number): Promise<boolean> {
  const s = createServer();
  return new Promise((resolve) => {
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('startPortProxy', () => {
  test('a TCP connection to the published port reaches the VM, half-close included', async () => {
    const p = await startPortProxy({ mappings: parsePortSpec(`127.0.0.1:0:${echoPort}`), target: '127.0.0.1' });
    proxies.push(p);
    expect(p.ports).toMatchObject([{ hostIp: '127.0.0.1', containerPort: echoPort, protocol: 'tcp' }]);
    expect(p.ports[0].hostPort).toBeGreaterThan(0);
    expect(await tcpRequest(p.ports[0].hostPort, 'hello')).toBe('HELLO');
    const big = 'x'.repeat(1 << 20);
    expect((await tcpRequest(p.ports[0].hostPort, big)).length).toBe(big.length);
  });

  test('UDP datagrams go to the VM and replies come back to each client', async () => {
    const p = await startPortProxy({
      mappings: parsePortSpec(`127.0.0.1::${udpPort}/udp`),
      target: '127.0.0.1',
      udpIdleMs: 200,
    });
    proxies.push(p);
    const port = p.ports[0].hostPort;
    const [a, b] = await Promise.all([udpRequest(port, 'a'), udpRequest(port, 'b')]);
    expect([a, b]).toEqual(['echo:a', 'echo:b']);
    await new Promise((r) => setTimeout(r, 400));
    expect(p.activeFlows()).toBe(0);
  });

  test('a port in use is a clear error and nothing is left listening', async () => {
    const free = await occupy();
    await new Promise((r) => servers.pop()?.close(r));
    const taken = await occupy();
    await expect(
      startPortProxy({
        mappings: [...parsePortSpec(`127.0.0.1:${free}:${echoPort}`), ...parsePortSpec(`127.0.0.1:${taken}:80`)],
        target: '127.0.0.1',
      }),
    ).rejects.toMatchObject({ code: 'PORT_IN_USE', message: `host port 127.0.0.1:${taken}/tcp is already in use` });
    expect(await isFree(free)).toBe(true);
  });

  test('a host range takes its first free port', async () => {
    const taken = await occupy();
    const p = await startPortProxy({
      mappings: parsePortSpec(`127.0.0.1:${taken}-${taken + 20}:${echoPort}`),
      target: '127.0.0.1',
    });
    proxies.push(p);
    expect(p.ports[0].hostPort).toBeGreaterThan(taken);
    expect(await tcpRequest(p.ports[0].hostPort, 'r')).toBe('R');
  });

  test('a connection to a VM port nobody listens on is closed, and close() frees the port', async () => {
    const dead = await occupy();
    await new Promise((r) => servers.pop()?.close(r));
    const p = await startPortProxy({ mappings: parsePortSpec(`127.0.0.1::${dead}`), target: '127.0.0.1' });
    expect(await tcpRequest(p.ports[0].hostPort, 'x').catch(() => 'closed')).toMatch(/^(|closed)$/);
    await p.close();
    await p.close();
    expect(await isFree(p.ports[0].hostPort)).toBe(true);
  });

  test('an address the host does not have is refused', async () => {
    await expect(
      startPortProxy({ mappings: parsePortSpec('192.0.2.200:0:80'), target: '127.0.0.1' }),
    ).rejects.toMatchObject({ code: 'PORT_HOST_IP_INVALID' });
  });
});
