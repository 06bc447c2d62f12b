/**
 * The host side of hybrid vsock against a FAKE peer: a small Unix-socket server that speaks
 * cloud-hypervisor's and Firecracker's CONNECT/OK handshake and makes guest-initiated connections
 * the way they do (to `<socket>_<port>`). No hypervisor runs here; the fake stands in for it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { type Server, type Socket, createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { listenChannel } from './channels.js';
import { CloudHypervisorAdapter } from './cloud-hypervisor.js';
import { connectHybridVsock, hybridVsockListenPath, linkHybridVsockChannels } from './hybrid-vsock.js';

/** A fake hybrid-vsock muxer: guest "listeners" by port, answering CONNECT as the hypervisors do. */
function fakeHybridVsockPeer(path: string, guest: Record<number, (s: Socket) => void>, reply?: string) {
  const server: Server = createServer((s) => {
    let line = '';
    const onData = (b: Buffer) => {
      line += b.toString('latin1');
      const nl = line.indexOf('\n');
      if (nl < 0) return;
      s.off('data', onData);
      const port = Number(/^CONNECT (\d+)$/.exec(line.slice(0, nl))?.[1]);
      const listener = guest[port];
      if (reply !== undefined) return void s.end(reply);
      if (!listener) return void s.destroy(); // nobody listens on that port: the muxer hangs up
      s.write('OK 1073741824\n');
      listener(s);
    };
    s.on('data', onData);
  });
  return new Promise<Server>((resolve) => server.listen(path, () => resolve(server)));
}

const read = (s: Socket) =>
  new Promise<string>((resolve) => {
    let text = '';
    s.on('data', (b) => {
      text += b.toString();
    });
    s.on('end', () => resolve(text));
    s.resume();
  });

let dir: string;
let servers: Server[];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hypr-vsock-'));
  servers = [];
});
afterEach(async () => {
  for (const s of servers) s.close();
  await rm(dir, { recursive: true, force: true });
});

describe('host → guest: CONNECT <port> through the hybrid-vsock socket (fake peer)', () => {
  test('OK opens the stream to the guest listener; bytes after the OK line are kept', async () => {
    const path = join(dir, 'vsock.sock');
    servers.push(
      await fakeHybridVsockPeer(path, {
        1027: (s) => {
          s.on('data', (b) => s.end(`echo:${b}`));
        },
      }),
    );
    const sock = await connectHybridVsock(path, 1027);
    sock.write('ping');
    expect(await read(sock)).toBe('echo:ping');
  });

  test('data arriving in the same packet as OK is not lost', async () => {
    const path = join(dir, 'vsock.sock');
    const server = createServer((s) => s.once('data', () => s.end('OK 5\nhello')));
    await new Promise((r) => server.listen(path, () => r(undefined)));
    servers.push(server);
    expect(await read(await connectHybridVsock(path, 1024))).toBe('hello');
  });

  test('a port nobody listens on, a wrong answer and a missing socket are HyprErrors naming socket and port', async () => {
    const path = join(dir, 'vsock.sock');
    servers.push(await fakeHybridVsockPeer(path, {}));
    await expect(connectHybridVsock(path, 1999)).rejects.toMatchObject({
      code: 'VM_HYPERVISOR_FAILED',
      message: expect.stringMatching(/vsock port 1999 through .*vsock\.sock: the hypervisor closed/),
    });
    const odd = join(dir, 'odd.sock');
    servers.push(await fakeHybridVsockPeer(odd, {}, 'NO\n'));
    await expect(connectHybridVsock(odd, 1024)).rejects.toThrow(/answered "NO", not "OK <port>"/);
    await expect(connectHybridVsock(join(dir, 'none.sock'), 1024)).rejects.toThrow(/none\.sock.*ENOENT/);
  });
});

describe('guest → host: the hypervisor connects to <socket>_<port> (fake peer)', () => {
  test("each channel's socket is reachable at the hybrid-vsock path of its port", async () => {
    const got: string[] = [];
    const control = await listenChannel(join(dir, 'control.sock'), (b) => got.push(`control:${b}`));
    const stdout = await listenChannel(join(dir, 'stdout.sock'), (b) => got.push(`stdout:${b}`));
    const channels = [
      { name: 'hypr.control', socketPath: join(dir, 'control.sock'), vsockPort: 1024 },
      { name: 'hypr.stdout', socketPath: join(dir, 'stdout.sock'), vsockPort: 1025 },
    ];
    const vsock = join(dir, 'vsock.sock');
    await linkHybridVsockChannels(vsock, channels);
    // The fake hypervisor: the guest opened ports 1024 and 1025 on CID 2.
    for (const [port, text] of [
      [1024, '[HYPR-READY] kestrel'],
      [1025, 'hello'],
    ] as const) {
      const s = createConnection(hybridVsockListenPath(vsock, port));
      await new Promise((r) => s.end(text, () => r(undefined)));
    }
    await Promise.all([control.closed, stdout.closed]);
    expect(got.sort()).toEqual(['control:[HYPR-READY] kestrel', 'stdout:hello']);
  });

  test('the cloud-hypervisor adapter names the socket it links the channels under', () => {
    const spec = { consoleLogPath: '/w/console.log' } as Parameters<typeof CloudHypervisorAdapter.vsockSocket>[0];
    expect(CloudHypervisorAdapter.vsockSocket(spec)).toBe('/w/vsock.sock');
    expect(hybridVsockListenPath('/w/vsock.sock', 1024)).toBe('/w/vsock.sock_1024');
  });
});
