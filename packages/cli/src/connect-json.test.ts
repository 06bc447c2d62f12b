import { mkdtempSync, rmSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ConnectJsonError, JsonConnection, answerReader, callJson } from './connect-json.js';

// A real HTTP/1.1 server (Node's, as hyprd's socket uses) on a Unix socket, answering the way hyprd's
// Connect handlers do: whole bodies, chunked bodies written in pieces, errors with HYPR's headers.
const dir = mkdtempSync(join(tmpdir(), 'hypr-connect-json-'));
const socketPath = join(dir, 'hyprd.sock');
let server: Server;

function envelope(flags: number, message: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(message));
  const head = Buffer.alloc(5);
  head[0] = flags;
  head.writeUInt32BE(json.length, 1);
  return Buffer.concat([head, json]);
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const routes: Record<string, (body: Buffer, res: ServerResponse) => void> = {
  '/t.S/Whole': (body, res) => {
    const text = JSON.stringify({ got: JSON.parse(body.toString()), text: 'é'.repeat(3000) });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  },
  '/t.S/Pieces': (_body, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }); // no length: chunked
    res.write('{"a":');
    setTimeout(() => res.end('[1,2,3]}'), 20);
  },
  '/t.S/Refused': (_body, res) => {
    res.writeHead(404, {
      'content-type': 'application/json',
      'hypr-error-code': 'CONTAINER_NOT_FOUND',
      'hypr-error-hint': encodeURIComponent('list them with hypr ps -a'),
    });
    res.end(JSON.stringify({ code: 'not_found', message: 'no such container: web' }));
  },
  '/t.S/Stream': (body, res) => {
    res.writeHead(200, { 'content-type': 'application/connect+json' });
    const asked = JSON.parse(body.subarray(5).toString()) as { n: number };
    const all = Buffer.concat([...Array.from({ length: asked.n }, (_, i) => envelope(0, { i })), envelope(2, {})]);
    // Cut at odd places: an envelope's head and its JSON arrive in different chunks.
    let at = 0;
    const step = () => {
      if (at >= all.length) return res.end();
      res.write(all.subarray(at, at + 7));
      at += 7;
      setImmediate(step);
    };
    step();
  },
  '/t.S/StreamFails': (_body, res) => {
    res.writeHead(200, { 'content-type': 'application/connect+json' });
    res.write(envelope(0, { i: 0 }));
    res.end(envelope(2, { error: { code: 'internal', message: 'the VM could not start' } }));
  },
  '/t.S/StreamCut': (_body, res) => {
    res.writeHead(200, { 'content-type': 'application/connect+json' });
    res.write(envelope(0, { i: 0 }));
    setTimeout(() => res.socket?.destroy(), 20);
  },
};

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = await bodyOf(req);
    const route = routes[req.url ?? ''];
    if (req.headers['connect-protocol-version'] !== '1' || !route) {
      res.writeHead(400);
      return res.end('{}');
    }
    route(body, res);
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

test('a unary call reads a whole answer and one sent in chunks', async () => {
  const c = new JsonConnection(socketPath);
  try {
    expect(await c.call('t.S', 'Whole', { id: 'x' })).toEqual({ got: { id: 'x' }, text: 'é'.repeat(3000) });
    expect(await c.call('t.S', 'Pieces', {})).toEqual({ a: [1, 2, 3] });
  } finally {
    c.close();
  }
});

test("hyprd's error comes back with its message, code and hint", async () => {
  const e = await callJson(socketPath, 't.S', 'Refused', {}).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(ConnectJsonError);
  expect(e).toMatchObject({
    message: 'no such container: web',
    code: 'not_found',
    hyprCode: 'CONTAINER_NOT_FOUND',
    hint: 'list them with hypr ps -a',
  });
});

test('a call to a socket nobody listens on fails', async () => {
  await expect(callJson(join(dir, 'none.sock'), 't.S', 'Whole', {})).rejects.toThrow(/ENOENT|ECONNREFUSED/);
});

test('a server stream yields every message in order, and ends with the error its end message carries', async () => {
  const c = new JsonConnection(socketPath);
  try {
    const got: unknown[] = [];
    for await (const m of c.serverStream('t.S', 'Stream', { n: 40 }).messages) got.push(m);
    expect(got).toEqual(Array.from({ length: 40 }, (_, i) => ({ i })));

    const failing: unknown[] = [];
    const read = (async () => {
      for await (const m of c.serverStream('t.S', 'StreamFails', {}).messages) failing.push(m);
    })();
    await expect(read).rejects.toThrow('the VM could not start');
    expect(failing).toEqual([{ i: 0 }]);

    const cut = (async () => {
      for await (const _ of c.serverStream('t.S', 'StreamCut', {}).messages);
    })();
    await expect(cut).rejects.toThrow(/ended/);
  } finally {
    c.close();
  }
});

test('an answer fed a byte at a time reads the same as in one piece', () => {
  const body = Buffer.from('{"hello":"wörld"}');
  const chunked = Buffer.concat([
    Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\nX-A: 2\r\n\r\n'),
    Buffer.from(`5\r\n${body.subarray(0, 5).toString('latin1')}\r\n`, 'latin1'),
    Buffer.from(`${(body.length - 5).toString(16)}\r\n`),
    body.subarray(5),
    Buffer.from('\r\n0\r\n\r\n'),
  ]);
  const read = (pieces: Buffer[]) => {
    const out: { status?: number; a?: unknown; data: Buffer[]; ended?: Error | 'ok' } = { data: [] };
    const r = answerReader('t', {
      head: (h) => {
        out.status = h.status;
        out.a = h.headers['x-a'];
      },
      data: (c) => out.data.push(c),
      end: (e) => {
        out.ended = e ?? 'ok';
      },
    });
    for (const p of pieces) r.feed(p);
    return { ...out, body: Buffer.concat(out.data).toString() };
  };
  const whole = read([chunked]);
  expect(whole).toMatchObject({ status: 200, a: ['1', '2'], ended: 'ok', body: body.toString() });
  const bytes = read([...chunked].map((b) => Buffer.from([b])));
  expect(bytes).toMatchObject({ status: 200, a: ['1', '2'], ended: 'ok', body: body.toString() });
});
