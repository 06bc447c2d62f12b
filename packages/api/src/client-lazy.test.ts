import { mkdtempSync, rmSync } from 'node:fs';
import { type Http2Session, createServer } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, ConnectError } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createHyprClient, daemonConnectionProblem } from './client.js';
import { ContainerService, Stream } from './gen/hypr/v1/containers_pb.js';
import { SystemService } from './gen/hypr/v1/system_pb.js';

// A real Connect server on a Unix socket, serving a few methods of two services as hyprd would.
const dir = mkdtempSync(join(tmpdir(), 'hypr-lazy-'));
const socket = join(dir, 'hyprd.sock');
const server = createServer(
  connectNodeAdapter({
    routes: (router) =>
      router
        .service(SystemService, { info: async () => ({ adapter: 'qemu', accelerator: 'tcg' }) })
        .service(ContainerService, {
          inspect: async (req) => {
            throw new ConnectError(`no such container: ${req.id}`, Code.NotFound);
          },
          async *logs(req) {
            yield { stream: Stream.STDOUT, data: new TextEncoder().encode(`${req.id} 1\n`) };
            if (req.id === 'broken') throw new ConnectError('log file is gone', Code.DataLoss);
            yield { stream: Stream.STDERR, data: new TextEncoder().encode(`${req.id} 2\n`) };
          },
        }),
  }),
);
const sessions = new Set<Http2Session>();
server.on('session', (s) => sessions.add(s));
beforeAll(() => new Promise<void>((r) => server.listen(socket, r)));
afterAll(async () => {
  // clients keep their HTTP/2 session open: close them, or close() waits for ever
  for (const s of sessions) s.destroy();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const text = (b: Uint8Array) => new TextDecoder().decode(b);

test('unary calls answer through the lazily loaded service, awaited or chained', async () => {
  const client = createHyprClient({ host: `unix://${socket}` });
  expect(await client.system.info({})).toMatchObject({ adapter: 'qemu', accelerator: 'tcg' });
  const info = await client.system.info({}).then((r) => r.accelerator);
  expect(info).toBe('tcg');
});

test("a unary call's error rejects with the ConnectError, through await and through .catch", async () => {
  const client = createHyprClient({ host: `unix://${socket}` });
  await expect(client.containers.inspect({ id: 'ghost' })).rejects.toMatchObject({
    code: Code.NotFound,
    rawMessage: 'no such container: ghost',
  });
  const caught = await client.containers.inspect({ id: 'ghost' }).catch((e: unknown) => e);
  expect(caught).toBeInstanceOf(ConnectError);
});

test('a server stream yields every message; its error ends the iteration with the ConnectError', async () => {
  const client = createHyprClient({ host: `unix://${socket}` });
  const lines: string[] = [];
  for await (const m of client.containers.logs({ id: 'web' })) lines.push(`${m.stream}:${text(m.data)}`);
  expect(lines).toEqual([`${Stream.STDOUT}:web 1\n`, `${Stream.STDERR}:web 2\n`]);
  const seen: string[] = [];
  const failure = await (async () => {
    for await (const m of client.containers.logs({ id: 'broken' })) seen.push(text(m.data));
  })().catch((e: unknown) => e);
  expect(seen).toEqual(['broken 1\n']);
  expect(failure).toMatchObject({ code: Code.DataLoss });
});

test('a stream left early is closed; no daemon at all fails each kind of call, unhandled by nobody', async () => {
  const client = createHyprClient({ host: `unix://${socket}` });
  for await (const m of client.containers.logs({ id: 'web' })) {
    expect(text(m.data)).toBe('web 1\n');
    break;
  }
  const none = createHyprClient({ host: `unix://${join(dir, 'none.sock')}` });
  const unary = await none.system.info({}).catch((e: unknown) => e);
  expect(daemonConnectionProblem(unary)).toBe('not-running');
  const stream = await (async () => {
    for await (const _ of none.containers.logs({ id: 'web' })) void _;
  })().catch((e: unknown) => e);
  expect(daemonConnectionProblem(stream)).toBe('not-running');
});
