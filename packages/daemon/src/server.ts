import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { type Http2Server, type Http2Session, createServer } from 'node:http2';
import { connect } from 'node:net';
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
  server: Http2Server;
  close(): Promise<void>;
}

/**
 * Serves the Connect routes (gRPC, gRPC-web and Connect protocols over h2c) on a Unix socket with
 * mode 0660, group `hypr` when that group exists. A stale socket file is replaced; a live one is
 * an error.
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
  const sessions = new Set<Http2Session>();
  const server = createServer(connectNodeAdapter({ routes }));
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
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
        for (const s of sessions) s.close();
        setTimeout(() => {
          for (const s of sessions) s.destroy();
        }, 2000).unref();
        rmSync(socketPath, { force: true });
      }),
  };
}
