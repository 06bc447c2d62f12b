/**
 * The host side of hybrid vsock, as cloud-hypervisor and Firecracker implement it (their docs,
 * "vsock"): the VM's vsock device is one Unix socket PATH on the host.
 *  - guest → host: the guest connects to CID 2, port P; the hypervisor connects to the Unix socket
 *    `PATH_P`, which the host listens on. This is how Kestrel's channels arrive (channels.ts
 *    listens on one socket per channel; linkHybridVsockChannels links `PATH_P` to it).
 *  - host → guest: the host connects to PATH, writes `CONNECT P\n`, reads `OK <host port>\n`; the
 *    bytes after that line are the stream to the guest's listener on port P (connectHybridVsock).
 */
import { symlink, unlink } from 'node:fs/promises';
import { type Socket, createConnection } from 'node:net';
import { HyprError } from '../errors.js';
import type { VmChannel } from './spec.js';

/** Where the hypervisor connects for a guest-initiated stream to host port PORT. */
export function hybridVsockListenPath(socketPath: string, port: number): string {
  return `${socketPath}_${port}`;
}

/**
 * Makes every guest-initiated channel reachable through the VM's hybrid-vsock socket: `PATH_<port>`
 * becomes a symbolic link to the channel's own socket (connecting through a link reaches the socket).
 */
export async function linkHybridVsockChannels(socketPath: string, channels: VmChannel[]): Promise<void> {
  for (const c of channels) {
    if (c.vsockPort === undefined || c.hypervisorListens) continue;
    const link = hybridVsockListenPath(socketPath, c.vsockPort);
    await unlink(link).catch(() => {});
    await symlink(c.socketPath, link);
  }
}

/** The longest handshake reply accepted: "OK " and a port number. */
const MAX_REPLY = 32;

/**
 * Opens a host-initiated stream to the guest's vsock port PORT through the hypervisor's hybrid
 * vsock socket: `CONNECT <port>\n`, then `OK <n>\n` (anything else, a close or no answer within
 * timeoutMs is a HyprError naming the socket and port). The socket comes back paused, with any bytes
 * that came with the reply still to read: resume() or pipe() it.
 */
export function connectHybridVsock(socketPath: string, port: number, timeoutMs = 10_000): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(socketPath);
    let reply = Buffer.alloc(0);
    const fail = (why: string, cause?: unknown) => {
      clearTimeout(timer);
      sock.destroy();
      reject(
        new HyprError(
          'VM_HYPERVISOR_FAILED',
          `vsock port ${port} through ${socketPath}: ${why}`,
          'is the VM running, and does its guest listen on that port?',
          cause ? { cause } : undefined,
        ),
      );
    };
    const timer = setTimeout(() => fail(`no answer to CONNECT within ${timeoutMs} ms`), timeoutMs);
    const onData = (b: Buffer) => {
      reply = Buffer.concat([reply, b]);
      const nl = reply.indexOf(0x0a);
      if (nl < 0) {
        if (reply.length > MAX_REPLY) fail(`the handshake reply is not a line: ${JSON.stringify(reply.toString())}`);
        return;
      }
      const line = reply.subarray(0, nl).toString('latin1');
      if (!/^OK \d+$/.test(line)) return fail(`the hypervisor answered ${JSON.stringify(line)}, not "OK <port>"`);
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('error', onError);
      sock.off('close', onClose);
      sock.pause();
      const rest = reply.subarray(nl + 1);
      if (rest.length > 0) sock.unshift(rest);
      resolve(sock);
    };
    const onError = (e: Error) => fail(e.message, e);
    const onClose = () => fail('the hypervisor closed the connection during the handshake');
    sock.on('data', onData);
    sock.on('error', onError);
    sock.on('close', onClose);
    sock.once('connect', () => sock.write(`CONNECT ${port}\n`));
  });
}
