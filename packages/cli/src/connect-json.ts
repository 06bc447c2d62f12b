// Calls to hyprd in the Connect protocol with JSON bodies, on its Unix socket: what the fast paths of
// bin/hypr.cjs and bin/run.js use instead of the generated client, whose protobuf descriptors, Connect
// transport and Node's fetch (undici) cost more to load than the whole call (docs/benchmarks.md, "CLI start-up").
// hyprd's socket speaks HTTP/2 (gRPC and Connect, binary and JSON) and HTTP/1.1 (Connect's unary and
// server-streaming calls). Unary calls and server streams go over HTTP/1.1: Node's HTTP/2 client loads
// `tls`, `crypto` and `http` with it, ~20 ms of a command's start. Only a stream of requests beside the
// answer (attach with stdin or a terminal) needs HTTP/2, which is then loaded.
// A unary call is a POST of the JSON message; a stream is a POST whose body and answer are enveloped
// messages (a flags byte, a 4-byte big-endian length, the JSON), the answer ending with an end-stream
// envelope (flag 0x02) that carries the error, if any, and its metadata. A JsonConnection keeps its
// connections for several calls until close().
import { Agent, type IncomingMessage, type RequestOptions, request as httpRequest } from 'node:http';
import type { ClientHttp2Session, ClientHttp2Stream } from 'node:http2';
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

/** hyprd's messages on a stream, in order: ends when its stream ends, throws when it ended with an error. */
export interface JsonMessages {
  messages: AsyncIterable<Record<string, unknown>>;
  /** Ends the call at once. */
  close(): void;
}

/** One side of a bidirectional stream: messages go out with send(), come back from messages. */
export interface JsonStream extends JsonMessages {
  send(message: unknown): void;
}

function envelope(flags: number, message: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(message), 'utf8');
  const out = Buffer.allocUnsafe(5 + json.length);
  out[0] = flags;
  out.writeUInt32BE(json.length, 1);
  json.copy(out, 5);
  return out;
}

/**
 * The answer side of a stream: feed() the bytes as they come, end() when the answer is over (or failed).
 * `messages` yields each enveloped message; the end-stream envelope ends it, with its error if any.
 */
function envelopeReader(name: string): {
  feed(chunk: Buffer): void;
  end(failure?: unknown): void;
  messages: AsyncIterable<Record<string, unknown>>;
} {
  const queue: Record<string, unknown>[] = [];
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  let pending: Buffer = Buffer.alloc(0);
  const end = (e?: unknown) => {
    if (ended) return;
    ended = true;
    failure = e;
    wake?.();
  };
  return {
    end,
    feed(chunk) {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 5 && !ended) {
        const size = pending.readUInt32BE(1);
        if (pending.length < 5 + size) break;
        const flags = pending[0];
        const json = JSON.parse(pending.subarray(5, 5 + size).toString('utf8'));
        pending = pending.subarray(5 + size);
        if (flags & 0x02) {
          const last = json as { error?: unknown; metadata?: Metadata };
          end(last.error ? answeredError(last.error, last.metadata ?? {}, `${name} failed`) : undefined);
        } else {
          queue.push(json);
          wake?.();
        }
      }
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
  };
}

const CONNECT_HEADERS = { 'connect-protocol-version': '1' };

/** The whole body of an HTTP/1.1 answer, as text. */
function bodyOf(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.once('error', reject);
    res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/** hyprd on its socket: unary calls and server streams over HTTP/1.1, bidirectional streams over HTTP/2. */
export class JsonConnection {
  private agent?: Agent;
  private session?: ClientHttp2Session;
  private failure?: unknown;

  constructor(private readonly socketPath: string) {}

  /** A POST of `body` to `/<service>/<method>` over HTTP/1.1, on the connection kept for this one's calls. */
  private post(path: string, contentType: string, body: Buffer | string, onResponse: (res: IncomingMessage) => void) {
    this.agent ??= new Agent({ keepAlive: true, maxSockets: 4 });
    const options: RequestOptions & { servername: string } = {
      socketPath: this.socketPath,
      // No TLS name to derive from the host (the agent's option, not in the type): without it the agent
      // asks net.isIP, whose first use compiles its IPv6 pattern (~10 ms of a `hypr ps`).
      servername: '',
      agent: this.agent,
      method: 'POST',
      path,
      headers: { ...CONNECT_HEADERS, 'content-type': contentType, 'content-length': Buffer.byteLength(body) },
    };
    const req = httpRequest(options);
    req.once('response', onResponse);
    req.end(body);
    return req;
  }

  /**
   * POSTs `body` to `/<service>/<method>`; resolves with the decoded answer. Rejects with a
   * ConnectJsonError when hyprd answered with an error, with another error when the call failed.
   */
  call(service: string, method: string, body: unknown): Promise<unknown> {
    const name = `${service}/${method}`;
    return new Promise((resolve, reject) => {
      const req = this.post(`/${name}`, 'application/json', JSON.stringify(body), (res) => {
        bodyOf(res).then((text) => {
          const status = res.statusCode ?? 0;
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch (e) {
            return reject(status === 200 ? e : new Error(`${name}: HTTP ${status} ${text}`));
          }
          if (status !== 200) return reject(answeredError(json, res.headers, `${name}: HTTP ${status}`));
          resolve(json);
        }, reject);
      });
      req.once('error', reject);
    });
  }

  /** Calls the server-streaming `/<service>/<method>` with `body` over HTTP/1.1; hyprd's messages as they come. */
  serverStream(service: string, method: string, body: unknown): JsonMessages {
    const name = `${service}/${method}`;
    const reader = envelopeReader(name);
    const req = this.post(`/${name}`, 'application/connect+json', envelope(0, body), (res) => {
      if (res.statusCode !== 200) {
        bodyOf(res).then((text) => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            /* not Connect's error JSON */
          }
          reader.end(answeredError(json, res.headers, `${name}: HTTP ${res.statusCode}`));
        }, reader.end);
        return;
      }
      res.on('data', (c: Buffer) => reader.feed(c));
      res.once('error', (e) => reader.end(e));
      res.once('end', () => reader.end(new Error(`${name}: the stream ended without its end message`)));
    });
    req.once('error', (e) => reader.end(e));
    return {
      messages: reader.messages,
      close: () => {
        reader.end();
        req.destroy();
      },
    };
  }

  /** Opens `/<service>/<method>` as a Connect stream with JSON messages both ways, over HTTP/2. */
  async stream(service: string, method: string): Promise<JsonStream> {
    const { connect } = await import('node:http2');
    if (!this.session) {
      const s = connect('http://hyprd', { createConnection: () => connectSocket(this.socketPath) });
      s.on('error', (e) => {
        this.failure = e;
      });
      this.session = s;
    }
    const req = this.session.request({
      ':method': 'POST',
      ':path': `/${service}/${method}`,
      'content-type': 'application/connect+json',
      ...CONNECT_HEADERS,
    });
    return openStream(req, `${service}/${method}`, () => this.failure);
  }

  /** Ends every call and the connections. */
  close(): void {
    this.agent?.destroy();
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

function openStream(req: ClientHttp2Stream, name: string, sessionFailure: () => unknown): JsonStream {
  const reader = envelopeReader(name);
  req.once('error', (e) => reader.end(sessionFailure() ?? e));
  req.once('response', (h) => {
    const status = Number(h[':status']);
    if (status !== 200) reader.end(answeredError(undefined, h, `${name}: HTTP ${status}`));
  });
  req.on('data', (chunk: Buffer) => reader.feed(chunk));
  req.once('close', () => reader.end(new Error(`${name}: the stream ended without its end message`)));
  return {
    send: (message) => {
      if (!req.closed) req.write(envelope(0, message));
    },
    messages: reader.messages,
    close: () => {
      reader.end();
      req.close();
    },
  };
}
