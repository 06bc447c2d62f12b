import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type TestStore, loadTestImage, openTestStore } from '../../test/helpers/build-store.js';
import { buildBusyboxImage } from '../../test/helpers/busybox-image.js';
import { decompressLayer } from '../image/decompress.js';
import { readTar } from '../image/tar-reader.js';
import { buildImage } from './executor.js';

// ADD of an http(s) URL against a real HTTP server on 127.0.0.1 (no RUN, so no VM).
const BODY = 'downloaded content\n';
let server: Server;
let base: string;
let ts: TestStore;
let ctx: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/files/tool.sh') {
      res.writeHead(200, { 'last-modified': 'Wed, 21 Oct 2015 07:28:00 GMT' });
      res.end(BODY);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  ts = await openTestStore();
  await loadTestImage(ts.store, await buildBusyboxImage(), 'addbase:1');
  ctx = await mkdtemp(join(tmpdir(), 'hypr-add-url-'));
});
afterAll(async () => {
  server?.close();
  await ts?.close();
  await rm(ctx, { recursive: true, force: true });
});

const build = (dockerfile: string) => buildImage({ contextDir: ctx, dockerfile, store: ts.store, noCache: true });

describe('ADD <url>', () => {
  test('the file lands under its URL name with mode 0600; --checksum is verified', async () => {
    const sum = `sha256:${createHash('sha256').update(BODY).digest('hex')}`;
    const r = await build(`FROM addbase:1\nADD --checksum=${sum} ${base}/files/tool.sh /opt/\n`);
    const entries: string[] = [];
    for await (const { header, body } of readTar(
      decompressLayer(ts.store.blobs.openBlob(r.image.layers.at(-1)!.digest)),
    )) {
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(c);
      entries.push(`${header.path} ${header.mode.toString(8)} ${Buffer.concat(chunks).toString().trim()}`);
    }
    expect(entries).toEqual(['opt/ 755 ', 'opt/tool.sh 600 downloaded content']);
  });

  test('a wrong checksum or a missing file fails at the ADD line', async () => {
    const wrong = await build(
      `FROM addbase:1\nADD --checksum=sha256:${'0'.repeat(64)} ${base}/files/tool.sh /t\n`,
    ).catch((e) => e);
    expect(wrong.code).toBe('BUILD_ADD_CHECKSUM_MISMATCH');
    expect(wrong.line).toBe(2);
    const missing = await build(`FROM addbase:1\nADD ${base}/nope /t\n`).catch((e) => e);
    expect(missing.code).toBe('BUILD_ADD_DOWNLOAD_FAILED');
    expect(missing.message).toContain('404');
  });
});
