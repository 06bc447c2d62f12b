import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer as createHttp1Server } from 'node:http';
import { type Http2Session, createServer as createHttp2Server } from 'node:http2';
import { type Server, type Socket, connect, createServer as createSocketServer } from 'node:net';
import { dirname } from 'node:path';
import type { ConnectRouter } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { HyprError, type Logger } from '@hypr/core';

/** Whether something answers on the socket (a live daemon), as opposed to a stale file. */
function socketInUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function hyprGroupId(): number | undefined {
  try {
    const line = execFileSync('getent', ['group', 'hypr'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const gid = Number(line.split(':')[2]);
    return Number.isInteger(gid) ? gid : undefined;
  } catch {
    return undefined;
  }
}

export interface SocketServer {
  server: Server;
  close(): Promise<void>;
}

/**
 * Hands each connection to the HTTP/2 server when it opens with HTTP/2's preface ("PRI * HTTP/2.0…",
 * what every gRPC and Connect client over h2c sends first), else to the HTTP/1.1 one. The bytes read to
 * decide go back into the socket: the HTTP/2 session reads them from there, the HTTP/1.1 parser once the
 * socket flows again.
 */
function byFirstBytes(socket: Socket, h2: (s: Socket) => void, h1: (s: Socket) => void): void {
  const seen: Buffer[] = [];
  const onData = (chunk: Buffer) => {
    seen.push(chunk);
    const head = Buffer.concat(seen);
    if (head.length < 3) return;
    socket.off('data', onData);
    socket.pause();
    socket.unshift(head);
    if (head.subarray(0, 3).toString('latin1') === 'PRI') h2(socket);
    else {
      h1(socket);
      socket.resume();
    }
  };
  socket.on('data', onData);
  socket.on('error', () => {}); // a client gone before its first bytes
}

/**
 * Serves the Connect routes on a Unix socket with mode 0660, group `hypr` when that group exists:
 * gRPC, gRPC-web and the Connect protocol over h2c, and the Connect protocol's unary and server-streaming
 * calls over HTTP/1.1 too (the CLI's fast paths use it: Node's HTTP/1.1 client loads in a third of the time
 * of its HTTP/2 one). A stale socket file is replaced; a live one is an error.
 */
export async function listenOnSocket(
  socketPath: string,
  routes: (router: ConnectRouter) => void,
  log: Logger,
): Promise<SocketServer> {
  mkdirSync(dirname(socketPath), { recursive: true, mode: 0o755 });
  if (existsSync(socketPath)) {
    if (await socketInUse(socketPath))
      throw new HyprError(
        'DAEMON_SOCKET_IN_USE',
        `another daemon is listening on ${socketPath}`,
        'stop it, or start this one with -H unix:///other/path.sock',
      );
    log.info({ socket: socketPath }, 'replacing stale socket');
    rmSync(socketPath, { force: true });
  }
  const handler = connectNodeAdapter({ routes });
  const sessions = new Set<Http2Session>();
  const h2 = createHttp2Server(handler);
  h2.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  const h1 = createHttp1Server(handler);
  const server = createSocketServer((socket) =>
    byFirstBytes(
      socket,
      (s) => h2.emit('connection', s),
      (s) => h1.emit('connection', s),
    ),
  );
  const umask = process.umask(0o117); // the socket is born 0660, never briefly world-writable
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
  } finally {
    process.umask(umask);
  }
  chmodSync(socketPath, 0o660);
  const gid = hyprGroupId();
  if (gid !== undefined) {
    try {
      chownSync(socketPath, process.getuid?.() ?? 0, gid);
    } catch (e) {
      log.warn({ err: e }, 'cannot give the socket to group hypr');
    }
  }
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        h1.closeAllConnections();
        for (const s of sessions) s.close();
        setTimeout(() => {
          for (const s of sessions) s.destroy();
        }, 2000).unref();
        rmSync(socketPath, { force: true });
      }),
  };
}
