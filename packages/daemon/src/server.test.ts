// hyprd's socket: the same routes over HTTP/2 (the gRPC client every command but the CLI's fast paths uses)
// and over HTTP/1.1 (Connect's unary and server-streaming calls, what `hypr ps` and `hypr run` send).
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { SystemService } from '@hypr/api';
import { silentLogger } from '@hypr/core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type SocketServer, listenOnSocket } from './server.js';

let dir: string;
let socket: string;
let server: SocketServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hypr-server-'));
  socket = join(dir, 'hyprd.sock');
  server = await listenOnSocket(
    socket,
    (router) =>
      router.service(SystemService, {
        version: () => ({ version: '9.9.9', apiVersion: 'v1' }),
        ping: () => ({}),
        async *events(req) {
          for (const f of req.filters) yield { type: 'container', action: f };
        },
      }),
    silentLogger,
  );
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A POST over HTTP/1.1 on the socket: status, content type and body. */
function post(path: string, contentType: string, body: Buffer | string) {
  return new Promise<{ status: number; type: string; body: Buffer }>((resolve, reject) => {
    const req = request(
      { socketPath: socket, method: 'POST', path, headers: { 'content-type': contentType } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type']),
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function envelopes(body: Buffer): { flags: number; json: unknown }[] {
  const out = [];
  for (let at = 0; at + 5 <= body.length; ) {
    const size = body.readUInt32BE(at + 1);
    out.push({ flags: body[at], json: JSON.parse(body.subarray(at + 5, at + 5 + size).toString()) });
    at += 5 + size;
  }
  return out;
}

test('a gRPC client over HTTP/2 is answered', async () => {
  const transport = createGrpcTransport({
    baseUrl: 'http://hyprd',
    nodeOptions: { createConnection: () => connect(socket) },
  });
  const client = createClient(SystemService, transport);
  expect((await client.version({})).version).toBe('9.9.9');
});

test('a Connect unary call over HTTP/1.1 is answered on the same socket', async () => {
  const r = await post('/hypr.v1.SystemService/Version', 'application/json', '{}');
  expect(r.status).toBe(200);
  expect(JSON.parse(r.body.toString())).toMatchObject({ version: '9.9.9', apiVersion: 'v1' });
});

test('a Connect server stream over HTTP/1.1 gets every message and the end of the stream', async () => {
  const body = Buffer.from(JSON.stringify({ filters: ['start', 'die'] }));
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length, 1);
  const r = await post('/hypr.v1.SystemService/Events', 'application/connect+json', Buffer.concat([head, body]));
  expect(r.status).toBe(200);
  const got = envelopes(r.body);
  expect(got.map((m) => m.flags)).toEqual([0, 0, 2]);
  expect(got.slice(0, 2).map((m) => (m.json as { action: string }).action)).toEqual(['start', 'die']);
});

test("an unknown method over HTTP/1.1 gets Connect's error, not a hang", async () => {
  const r = await post('/hypr.v1.SystemService/Nope', 'application/json', '{}');
  expect(r.status).toBe(404);
});

test('a client that leaves before its first bytes does not stop the server', async () => {
  await new Promise<void>((resolve) => {
    const s = connect(socket, () => s.destroy());
    s.on('close', () => resolve());
  });
  const s2 = connect(socket);
  await new Promise<void>((resolve) => s2.once('connect', () => resolve()));
  s2.write('PO'); // fewer bytes than the protocol is told by, then gone
  s2.destroy();
  expect((await post('/hypr.v1.SystemService/Ping', 'application/json', '{}')).status).toBe(200);
});
