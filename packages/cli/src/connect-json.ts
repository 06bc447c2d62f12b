// Calls to hyprd in the Connect protocol with JSON bodies, on its Unix socket: what the fast paths of
// bin/hypr.cjs and bin/run.js use instead of the generated client, whose protobuf descriptors, Connect
// transport and Node's fetch (undici) cost more to load than the whole call (docs/benchmarks.md, "CLI start-up").
// hyprd's socket speaks HTTP/2 (gRPC and Connect, binary and JSON) and HTTP/1.1 (Connect's unary and
// server-streaming calls). Unary calls and server streams go over HTTP/1.1, one connection each, written
// and read here on a plain socket: Node's HTTP/2 client loads `tls`, `crypto` and `http` (~20 ms of a
// command's start), its HTTP/1.1 client `http` alone (~5 ms, a tenth of a `hypr ps`). Only a stream of
// requests beside the answer (attach with stdin or a terminal) needs HTTP/2, which is then loaded.
// A unary call is a POST of the JSON message; a stream is a POST whose body and answer are enveloped
// messages (a flags byte, a 4-byte big-endian length, the JSON), the answer ending with an end-stream
// envelope (flag 0x02) that carries the error, if any, and its metadata.
import type { ClientHttp2Session, ClientHttp2Stream } from 'node:http2';
import { type Socket, connect as connectSocket } from 'node:net';

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

/** An HTTP/1.1 answer's status line and headers (names in lower case). */
interface Head {
  status: number;
  headers: Metadata;
}

/** What an answer's reader calls: its head, each piece of its body, its end (with why it failed, if it did). */
interface AnswerHandlers {
  head(h: Head): void;
  data(chunk: Buffer): void;
  end(failure?: Error): void;
}

/**
 * Reads an HTTP/1.1 answer from the bytes of its connection, fed as they come: the head, then the body as
 * Content-Length, chunked transfer coding or the connection's end delimit it. `end()` when the
 * connection ends; an answer cut short fails with an error naming `name`.
 */
export function answerReader(
  name: string,
  on: AnswerHandlers,
): { feed(chunk: Buffer): void; end(): void; fail(e: Error): void } {
  let pending: Buffer = Buffer.alloc(0);
  let head: Head | undefined;
  let left = -1; // Content-Length bytes still to come; -1: until the connection ends
  let chunked = false;
  let chunkLeft = 0; // of the current chunk, its CRLF included
  let done = false;
  const finish = (failure?: Error) => {
    if (done) return;
    done = true;
    on.end(failure);
  };
  const readHead = (): boolean => {
    const at = pending.indexOf('\r\n\r\n');
    if (at < 0) return false;
    const [statusLine, ...lines] = pending.subarray(0, at).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
    if (!status) {
      finish(new Error(`${name}: not an HTTP answer: ${statusLine.slice(0, 80)}`));
      return false;
    }
    const headers: Metadata = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const key = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      const had = headers[key];
      headers[key] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value];
    }
    head = { status, headers };
    pending = pending.subarray(at + 4);
    chunked = /chunked/i.test(String(first(headers['transfer-encoding']) ?? ''));
    const length = first(headers['content-length']);
    if (!chunked && length !== undefined) left = Number(length);
    on.head(head);
    return true;
  };
  const readBody = () => {
    if (!chunked) {
      const take = left < 0 ? pending : pending.subarray(0, left);
      pending = pending.subarray(take.length);
      if (take.length) on.data(take);
      if (left >= 0 && (left -= take.length) === 0) finish();
      return;
    }
    while (!done) {
      if (chunkLeft === 0) {
        const eol = pending.indexOf('\r\n');
        if (eol < 0) return;
        const size = Number.parseInt(pending.subarray(0, eol).toString('latin1'), 16);
        if (Number.isNaN(size)) return finish(new Error(`${name}: a malformed chunk in the answer`));
        pending = pending.subarray(eol + 2);
        if (size === 0) return finish();
        chunkLeft = size + 2;
      }
      const take = pending.subarray(0, Math.min(pending.length, chunkLeft));
      if (!take.length) return;
      pending = pending.subarray(take.length);
      const data = chunkLeft - take.length >= 2 ? take : take.subarray(0, Math.max(0, chunkLeft - 2));
      chunkLeft -= take.length;
      if (data.length) on.data(data);
    }
  };
  return {
    feed(chunk) {
      if (done) return;
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      if (!head && !readHead()) return;
      readBody();
    },
    end() {
      if (head && !chunked && left < 0) return finish();
      finish(new Error(`${name}: the connection ended before the whole answer`));
    },
    fail: finish,
  };
}

/** hyprd on its socket: unary calls and server streams over HTTP/1.1, bidirectional streams over HTTP/2. */
export class JsonConnection {
  private readonly sockets = new Set<Socket>();
  private session?: ClientHttp2Session;
  private failure?: unknown;

  constructor(private readonly socketPath: string) {}

  /**
   * POSTs `body` to `path` on a connection of its own (closed by hyprd after the answer) and reads the answer
   * with `on`; returns the socket.
   */
  private post(path: string, contentType: string, body: Buffer | string, on: AnswerHandlers) {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const socket = connectSocket(this.socketPath);
    this.sockets.add(socket);
    const reader = answerReader(path.slice(1), on);
    socket.write(
      `POST ${path} HTTP/1.1\r\nHost: hyprd\r\nConnection: close\r\nConnect-Protocol-Version: 1\r\n` +
        `Content-Type: ${contentType}\r\nContent-Length: ${bytes.length}\r\n\r\n`,
    );
    socket.write(bytes);
    socket.on('data', (c: Buffer) => reader.feed(c));
    socket.once('end', () => reader.end());
    socket.once('error', (e) => reader.fail(e));
    socket.once('close', () => {
      this.sockets.delete(socket);
      reader.end();
    });
    return socket;
  }

  /**
   * POSTs `body` to `/<service>/<method>`; resolves with the decoded answer. Rejects with a
   * ConnectJsonError when hyprd answered with an error, with another error when the call failed.
   */
  call(service: string, method: string, body: unknown): Promise<unknown> {
    const name = `${service}/${method}`;
    return new Promise((resolve, reject) => {
      let head: Head | undefined;
      const chunks: Buffer[] = [];
      const socket = this.post(`/${name}`, 'application/json', JSON.stringify(body), {
        head: (h) => {
          head = h;
        },
        data: (c) => chunks.push(c),
        end: (failure) => {
          socket.destroy();
          if (failure || !head) return reject(failure ?? new Error(`${name}: no answer`));
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch (e) {
            return reject(head.status === 200 ? e : new Error(`${name}: HTTP ${head.status} ${text}`));
          }
          if (head.status !== 200) return reject(answeredError(json, head.headers, `${name}: HTTP ${head.status}`));
          resolve(json);
        },
      });
    });
  }

  /** Calls the server-streaming `/<service>/<method>` with `body` over HTTP/1.1; hyprd's messages as they come. */
  serverStream(service: string, method: string, body: unknown): JsonMessages {
    const name = `${service}/${method}`;
    const reader = envelopeReader(name);
    let head: Head | undefined;
    const refused: Buffer[] = [];
    const socket = this.post(`/${name}`, 'application/connect+json', envelope(0, body), {
      head: (h) => {
        head = h;
      },
      data: (c) => (head?.status === 200 ? reader.feed(c) : refused.push(c)),
      end: (failure) => {
        if (failure || !head) return reader.end(failure ?? new Error(`${name}: no answer`));
        if (head.status === 200) return reader.end(new Error(`${name}: the stream ended without its end message`));
        let json: unknown;
        try {
          json = JSON.parse(Buffer.concat(refused).toString('utf8'));
        } catch {
          /* not Connect's error JSON */
        }
        reader.end(answeredError(json, head.headers, `${name}: HTTP ${head.status}`));
      },
    });
    return {
      messages: reader.messages,
      close: () => {
        reader.end();
        socket.destroy();
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
    for (const s of this.sockets) s.destroy();
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
