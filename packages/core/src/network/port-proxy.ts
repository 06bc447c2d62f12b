/**
 * Published ports through a userspace proxy, as docker-proxy: a listener on the host per mapping
 * that opens a connection (TCP) or a per-client socket (UDP) to the VM's address. It works on every
 * host, needs no rule, and is reachable from the host itself (where DNAT would need hairpin rules).
 * Start is all or nothing: when one port cannot be bound, every listener already opened is closed.
 */
import { type Socket as UdpSocket, createSocket } from 'node:dgram';
import { type Server, type Socket, connect, createServer, isIPv6 } from 'node:net';
import { HyprError } from '../errors.js';
import { type Logger, silentLogger } from '../log.js';
import type { PortMapping, PortProtocol } from './port-spec.js';

export interface PublishedPort {
  hostIp: string;
  /** The port bound (the one picked when the mapping said 0 or a range). */
  hostPort: number;
  containerPort: number;
  protocol: PortProtocol;
}

export interface StartPortProxyOptions {
  mappings: readonly PortMapping[];
  /** The VM's address on its network. */
  target: string;
  /** A UDP client's session (its socket to the VM) is closed after this long without traffic. */
  udpIdleMs?: number;
  logger?: Logger;
}

export interface PortProxy {
  readonly ports: readonly PublishedPort[];
  /** Open TCP connections and UDP sessions, for `inspect` and tests. */
  activeFlows(): number;
  /** Stops listening and ends every connection and session. Idempotent. */
  close(): Promise<void>;
}

interface Listener {
  port: PublishedPort;
  close(): Promise<void>;
  flows(): number;
}

function bindError(e: NodeJS.ErrnoException, m: PortMapping, port: number): HyprError {
  const where = `${m.hostIp}:${port === 0 ? '(any)' : port}/${m.protocol}`;
  if (e.code === 'EADDRINUSE')
    return new HyprError(
      'PORT_IN_USE',
      `host port ${where} is already in use`,
      'pick another host port, or stop what listens there (`ss -ltnup` names it)',
      { cause: e },
    );
  if (e.code === 'EACCES')
    return new HyprError('PORT_BIND_DENIED', `not allowed to listen on ${where}`, 'ports below 1024 need root', {
      cause: e,
    });
  if (e.code === 'EADDRNOTAVAIL')
    return new HyprError('PORT_HOST_IP_INVALID', `${m.hostIp} is not an address of this host`, undefined, {
      cause: e,
    });
  return new HyprError('PORT_BIND_FAILED', `cannot listen on ${where}: ${e.message}`, undefined, { cause: e });
}

async function listenTcp(m: PortMapping, hostPort: number, target: string, log: Logger): Promise<Listener> {
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    const upstream = connect({ host: target, port: m.containerPort, allowHalfOpen: true });
    sockets.add(client);
    sockets.add(upstream);
    const done = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    upstream.once('connect', () => {
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    client.on('error', done);
    upstream.on('error', (e) => {
      log.debug({ err: e.message, target, port: m.containerPort }, 'upstream connection failed');
      done();
    });
    let closed = 0;
    const onClose = () => {
      if (++closed === 2) done();
    };
    client.on('close', onClose);
    upstream.on('close', onClose);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: m.hostIp, port: hostPort, exclusive: true, ipv6Only: isIPv6(m.hostIp) }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : hostPort;
  return {
    port: { hostIp: m.hostIp, hostPort: bound, containerPort: m.containerPort, protocol: 'tcp' },
    flows: () => sockets.size / 2,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        sockets.clear();
        server.close(() => resolve());
      }),
  };
}

async function listenUdp(m: PortMapping, hostPort: number, target: string, idleMs: number): Promise<Listener> {
  const type = isIPv6(m.hostIp) ? 'udp6' : 'udp4';
  const server: UdpSocket = createSocket({ type, reuseAddr: false });
  const sessions = new Map<string, { socket: UdpSocket; timer: NodeJS.Timeout }>();
  const endSession = (key: string) => {
    const s = sessions.get(key);
    if (!s) return;
    sessions.delete(key);
    clearTimeout(s.timer);
    s.socket.close();
  };
  server.on('message', (msg, rinfo) => {
    const key = `${rinfo.address}|${rinfo.port}`;
    let s = sessions.get(key);
    if (!s) {
      const socket = createSocket(isIPv6(target) ? 'udp6' : 'udp4');
      socket.on('message', (reply) => {
        const cur = sessions.get(key);
        if (cur) cur.timer.refresh();
        server.send(reply, rinfo.port, rinfo.address);
      });
      socket.on('error', () => endSession(key));
      s = { socket, timer: setTimeout(() => endSession(key), idleMs) };
      sessions.set(key, s);
    } else s.timer.refresh();
    s.socket.send(msg, m.containerPort, target);
  });
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.bind({ address: m.hostIp, port: hostPort, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: { hostIp: m.hostIp, hostPort: server.address().port, containerPort: m.containerPort, protocol: 'udp' },
    flows: () => sessions.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const key of [...sessions.keys()]) endSession(key);
        server.close(() => resolve());
      }),
  };
}

/** Binds every mapping (picking free ports where asked) and starts forwarding to `target`. */
export async function startPortProxy(opts: StartPortProxyOptions): Promise<PortProxy> {
  const log = (opts.logger ?? silentLogger).child({ op: 'port-proxy', target: opts.target });
  const idleMs = opts.udpIdleMs ?? 60_000;
  const listeners: Listener[] = [];
  const open = (m: PortMapping, port: number) =>
    m.protocol === 'tcp' ? listenTcp(m, port, opts.target, log) : listenUdp(m, port, opts.target, idleMs);
  try {
    for (const m of opts.mappings) {
      if (m.hostPortEnd === undefined) {
        listeners.push(await open(m, m.hostPort).catch((e) => Promise.reject(bindError(e, m, m.hostPort))));
        continue;
      }
      let bound: Listener | undefined;
      for (let p = m.hostPort; p <= m.hostPortEnd && !bound; p++) {
        try {
          bound = await open(m, p);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw bindError(e as NodeJS.ErrnoException, m, p);
        }
      }
      if (!bound)
        throw new HyprError(
          'PORT_IN_USE',
          `every host port of ${m.hostIp}:${m.hostPort}-${m.hostPortEnd}/${m.protocol} is in use`,
          'pick another range',
        );
      listeners.push(bound);
    }
  } catch (e) {
    await Promise.all(listeners.map((l) => l.close()));
    throw e;
  }
  log.debug({ ports: listeners.map((l) => l.port) }, 'ports published');
  let closing: Promise<void> | undefined;
  return {
    ports: listeners.map((l) => l.port),
    activeFlows: () => listeners.reduce((n, l) => n + l.flows(), 0),
    close() {
      closing ??= Promise.all(listeners.map((l) => l.close())).then(() => undefined);
      return closing;
    },
  };
}
