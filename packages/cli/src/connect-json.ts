// Calls to hyprd in the Connect protocol with JSON bodies, over HTTP/2 on its Unix socket: what the fast
// paths of bin/run.js use instead of the generated client, whose protobuf descriptors, Connect transport
// and Node's fetch (undici) cost more to load than the whole call (docs/benchmarks.md, "CLI start-up").
// hyprd's Connect server speaks gRPC and Connect, binary and JSON, on the same socket. A unary call is a
// POST of the JSON message; a stream is a POST whose body and answer are enveloped messages (a flags byte,
// a 4-byte big-endian length, the JSON), the answer ending with an end-stream envelope (flag 0x02) that
// carries the error, if any, and its metadata. A JsonConnection holds one connection for several calls.
import { type ClientHttp2Session, type ClientHttp2Stream, connect } from 'node:http2';
import { connect as connectSocket } from 'node:net';

/** An error hyprd answered (the call reached it): its message, Connect code and HYPR's code and hint. */
export class ConnectJsonError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly hyprCode?: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

type Metadata = Record<string, string | string[] | undefined>;

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** hyprd's error, from its JSON ({code, message}) and the metadata it came with (headers or end-stream). */
function answeredError(json: unknown, metadata: Metadata, fallback: string): ConnectJsonError {
  const e = (json ?? {}) as { code?: string; message?: string };
  const hint = first(metadata['hypr-error-hint']);
  return new ConnectJsonError(
    e.message ?? fallback,
    e.code ?? 'unknown',
    first(metadata['hypr-error-code']),
    hint ? decodeURIComponent(hint) : undefined,
  );
}

function request(s: ClientHttp2Session, path: string, contentType: string): ClientHttp2Stream {
  return s.request({
    ':method': 'POST',
    ':path': path,
    'content-type': contentType,
    'connect-protocol-version': '1',
  });
}

/** One HTTP/2 connection to hyprd, opened at the first call, for any number of calls and streams. */
export class JsonConnection {
  private session?: ClientHttp2Session;
  private failure?: unknown;

  constructor(private readonly socketPath: string) {}

  private open(): ClientHttp2Session {
    if (!this.session) {
      const s = connect('http://hyprd', { createConnection: () => connectSocket(this.socketPath) });
      s.on('error', (e) => {
        this.failure = e;
      });
      this.session = s;
    }
    return this.session;
  }

  /**
   * POSTs `body` to `/<service>/<method>`; resolves with the decoded answer. Rejects with a
   * ConnectJsonError when hyprd answered with an error, with another error when the call failed.
   */
  call(service: string, method: string, body: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const s = this.open();
      const req = request(s, `/${service}/${method}`, 'application/json');
      let status = 0;
      let headers: Metadata = {};
      const chunks: Buffer[] = [];
      const fail = (e: unknown) => reject(this.failure ?? e);
      req.once('response', (h) => {
        status = Number(h[':status']);
        headers = h;
      });
      req.on('data', (c: Buffer) => chunks.push(c));
      req.once('error', fail);
      req.once('close', () => fail(new Error(`${service}/${method}: the connection closed`)));
      req.once('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch (e) {
          return reject(status === 200 ? e : new Error(`${service}/${method}: HTTP ${status} ${text}`));
        }
        if (status !== 200) return reject(answeredError(json, headers, `${service}/${method}: HTTP ${status}`));
        resolve(json);
      });
      req.end(JSON.stringify(body));
    });
  }

  /** Opens `/<service>/<method>` as a Connect stream with JSON messages. */
  stream(service: string, method: string): JsonStream {
    return openStream(
      request(this.open(), `/${service}/${method}`, 'application/connect+json'),
      `${service}/${method}`,
    );
  }

  /** Ends every call and the connection. */
  close(): void {
    this.session?.destroy();
  }
}

/** One call on a connection of its own. */
export async function callJson(socketPath: string, service: string, method: string, body: unknown): Promise<unknown> {
  const c = new JsonConnection(socketPath);
  try {
    return await c.call(service, method, body);
  } finally {
    c.close();
  }
}

/** One side of a bidirectional stream: messages go out with send(), come back from messages. */
export interface JsonStream {
  send(message: unknown): void;
  /** hyprd's messages in order; ends when its stream ends, throws ConnectJsonError when it ended with an error. */
  messages: AsyncIterable<Record<string, unknown>>;
  /** Ends the call at once (both directions) and the connection. */
  close(): void;
}

function envelope(flags: number, message: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(message), 'utf8');
  const out = Buffer.allocUnsafe(5 + json.length);
  out[0] = flags;
  out.writeUInt32BE(json.length, 1);
  json.copy(out, 5);
  return out;
}

function openStream(req: ClientHttp2Stream, name: string): JsonStream {
  const queue: Record<string, unknown>[] = [];
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  let pending: Buffer = Buffer.alloc(0);
  const settle = (e?: unknown) => {
    if (ended) return;
    ended = true;
    failure = e;
    wake?.();
  };
  req.once('error', settle);
  req.once('response', (h) => {
    const status = Number(h[':status']);
    if (status !== 200) settle(answeredError(undefined, h, `${name}: HTTP ${status}`));
  });
  req.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 5 && !ended) {
      const size = pending.readUInt32BE(1);
      if (pending.length < 5 + size) break;
      const flags = pending[0];
      const json = JSON.parse(pending.subarray(5, 5 + size).toString('utf8'));
      pending = pending.subarray(5 + size);
      if (flags & 0x02) {
        const end = json as { error?: unknown; metadata?: Metadata };
        settle(end.error ? answeredError(end.error, end.metadata ?? {}, `${name} failed`) : undefined);
      } else {
        queue.push(json);
        wake?.();
      }
    }
  });
  req.once('close', () => settle(new Error(`${name}: the stream ended without its end message`)));
  return {
    send: (message) => {
      if (!ended) req.write(envelope(0, message));
    },
    messages: {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          while (queue.length) yield queue.shift() as Record<string, unknown>;
          if (ended) {
            if (failure) throw failure;
            return;
          }
          await new Promise<void>((r) => {
            wake = r;
          });
          wake = undefined;
        }
      },
    },
    close: () => {
      settle();
      req.close();
    },
  };
}
