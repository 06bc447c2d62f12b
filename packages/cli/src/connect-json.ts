// One unary call to hyprd in the Connect protocol with JSON bodies, over HTTP/2 on its Unix socket: what
// the fast paths of bin/run.js use instead of the generated client, whose protobuf descriptors, Connect
// transport and Node's fetch (undici) cost more to load than the whole call (docs/benchmarks.md,
// "CLI start-up"). hyprd's Connect server speaks gRPC and Connect, binary and JSON, on the same socket.
import { connect } from 'node:http2';
import { connect as connectSocket } from 'node:net';

/** POSTs `body` to `/<service>/<method>`; resolves with the decoded answer, rejects on any failure. */
export function callJson(socketPath: string, service: string, method: string, body: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const session = connect('http://hyprd', { createConnection: () => connectSocket(socketPath) });
    const fail = (e: unknown) => {
      session.destroy();
      reject(e);
    };
    session.once('error', fail);
    const req = session.request({
      ':method': 'POST',
      ':path': `/${service}/${method}`,
      'content-type': 'application/json',
      'connect-protocol-version': '1',
    });
    let status = 0;
    const chunks: Buffer[] = [];
    req.once('response', (headers) => {
      status = Number(headers[':status']);
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('error', fail);
    req.once('end', () => {
      session.close();
      const text = Buffer.concat(chunks).toString('utf8');
      if (status !== 200) return reject(new Error(`${service}/${method}: HTTP ${status} ${text}`));
      try {
        resolve(JSON.parse(text));
      } catch (e) {
        reject(e);
      }
    });
    req.end(JSON.stringify(body));
  });
}
