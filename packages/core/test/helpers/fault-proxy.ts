// Test helper: a tiny HTTP proxy in front of a real registry that can corrupt, cut or slow down
// blob downloads. Only for fault cases; the main paths talk to the registry directly.
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';

export type BlobFault = 'none' | 'corrupt' | 'cut-once' | 'cut-always' | 'wrong-manifest-digest';

export interface FaultProxy {
  host: string;
  url: string;
  fault: BlobFault;
  /** Delay between 64 KiB chunks of blob bodies (to make a download slow enough to kill). */
  chunkDelayMs: number;
  /** Requests seen: `METHOD path range`. */
  log: string[];
  /** Called when a blob body starts streaming. */
  onBlobStart?: (path: string) => void;
  stop(): Promise<void>;
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const cut = new Set<string>();
  const proxy: FaultProxy = {
    host: '',
    url: '',
    fault: 'none',
    chunkDelayMs: 0,
    log: [],
    stop: async () => {},
  };
  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    proxy.log.push(`${req.method} ${path} ${req.headers.range ?? ''}`.trim());
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host') headers[k] = v;
    const body = await new Promise<Buffer>((r) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => r(Buffer.concat(parts)));
    });
    const up = await fetch(`${upstream}${path}`, {
      method: req.method,
      headers,
      body: body.length ? body : undefined,
      redirect: 'manual',
    });
    const data = Buffer.from(await up.arrayBuffer());
    const out: Record<string, string> = {};
    up.headers.forEach((v, k) => {
      if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection' && k !== 'keep-alive') out[k] = v;
    });
    const isBlob = req.method === 'GET' && /\/blobs\/sha256:/.test(path) && up.ok;
    if (proxy.fault === 'wrong-manifest-digest' && /\/manifests\//.test(path) && out['docker-content-digest']) {
      out['docker-content-digest'] = `sha256:${'0'.repeat(64)}`;
    }
    if (isBlob && proxy.fault === 'corrupt' && data.length) data[data.length >> 1] ^= 0xff;
    out['content-length'] = String(data.length);
    res.writeHead(up.status, out);
    if (req.method === 'HEAD' || !isBlob) {
      res.end(req.method === 'HEAD' ? undefined : data);
      return;
    }
    proxy.onBlobStart?.(path);
    const shouldCut = proxy.fault === 'cut-always' || (proxy.fault === 'cut-once' && !cut.has(path));
    if (shouldCut && data.length > 1) {
      cut.add(path);
      res.write(data.subarray(0, data.length >> 1), () => res.destroy());
      return;
    }
    for (let off = 0; off < data.length; off += 65536) {
      if (proxy.chunkDelayMs) await new Promise((r) => setTimeout(r, proxy.chunkDelayMs));
      if (res.destroyed) return;
      res.write(data.subarray(off, off + 65536));
    }
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  proxy.host = `127.0.0.1:${port}`;
  proxy.url = `http://${proxy.host}`;
  proxy.stop = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return proxy;
}
