import { createHash } from 'node:crypto';
import { type ErrorCode, HyprError } from '../errors.js';
import { type Logger, silentLogger } from '../log.js';
import { type RegistryCredentialResolver, type RegistryCredentials, parseAuthChallenge } from './auth.js';
import { type StreamResponse, getStream } from './http-stream.js';
import { MANIFEST_ACCEPT } from './media-types.js';
import { DOCKER_HUB, DOCKER_HUB_API, isLoopbackRegistry } from './reference.js';

export interface RegistryClientOptions {
  /** Registries (host[:port]) spoken to over plain http. Loopback registries always are. */
  insecureRegistries?: readonly string[];
  credentials?: RegistryCredentialResolver;
  /** Base URL to use instead of the registry's own, e.g. a pull-through mirror `http://127.0.0.1:5001`. */
  endpoint?: string;
  logger?: Logger;
  /** Attempts after the first on transient failures (network errors, 429, 5xx). Default 4. */
  retries?: number;
  /** First backoff delay; doubles each attempt. Default 200 ms. */
  retryBaseMs?: number;
  userAgent?: string;
}

export interface RequestOptions {
  repository: string;
  /** Actions the bearer token needs on `repository`. Default pull. */
  actions?: readonly ('pull' | 'push')[];
  /** Further scopes, e.g. `repository:other/repo:pull` for a cross-repo mount. */
  extraScopes?: readonly string[];
  headers?: Record<string, string>;
  body?: Uint8Array;
  signal?: AbortSignal;
  /** Do not retry on transient errors (the caller resumes by itself). */
  noRetry?: boolean;
}

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const MAX_MANIFEST_BYTES = 4 << 20;

export class RegistryError extends HyprError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly status?: number,
    hint?: string,
    options?: ErrorOptions,
  ) {
    super(code, message, hint, options);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A client for one registry's OCI Distribution API. Handles the anonymous and credentialed
 * bearer-token flow and basic auth, caches tokens per scope, and retries transient failures.
 */
export class RegistryClient {
  readonly baseUrl: string;
  private readonly log: Logger;
  private readonly tokens = new Map<string, string>();
  private basic: string | undefined;
  private credentials: RegistryCredentials | undefined | null = null;
  private readonly retries: number;
  private readonly retryBaseMs: number;

  constructor(
    readonly registry: string,
    private readonly opts: RegistryClientOptions = {},
  ) {
    const insecure = isLoopbackRegistry(registry) || (opts.insecureRegistries ?? []).includes(registry);
    const host = registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
    this.baseUrl = (opts.endpoint ?? `${insecure ? 'http' : 'https'}://${host}`).replace(/\/+$/, '');
    this.log = (opts.logger ?? silentLogger).child({ registry });
    this.retries = opts.retries ?? 4;
    this.retryBaseMs = opts.retryBaseMs ?? 200;
  }

  private scopeKey(o: RequestOptions): string[] {
    return [`repository:${o.repository}:${(o.actions ?? ['pull']).join(',')}`, ...(o.extraScopes ?? [])];
  }

  private async getCredentials(): Promise<RegistryCredentials | undefined> {
    if (this.credentials === null) this.credentials = (await this.opts.credentials?.(this.registry)) ?? undefined;
    return this.credentials;
  }

  /** One HTTP request with auth and retries. Returns the response whatever its status, except 401 after auth. */
  async request(method: string, pathOrUrl: string, o: RequestOptions): Promise<Response> {
    return this.send(method, pathOrUrl, o, (url, headers) =>
      fetch(url, { method, headers, body: o.body, signal: o.signal, redirect: 'follow' }),
    );
  }

  /** `request` for a GET whose body is streamed: over node's http client (see getStream). */
  private requestStream(pathOrUrl: string, o: RequestOptions): Promise<StreamResponse> {
    return this.send('GET', pathOrUrl, o, (url, headers) => getStream(url, { headers, signal: o.signal }));
  }

  private async send<R extends Response | StreamResponse>(
    method: string,
    pathOrUrl: string,
    o: RequestOptions,
    transport: (url: string, headers: Record<string, string>) => Promise<R>,
  ): Promise<R> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.baseUrl}${pathOrUrl}`;
    const scopes = this.scopeKey(o);
    const key = scopes.join(' ');
    let authed = false;
    for (let attempt = 0; ; attempt++) {
      o.signal?.throwIfAborted();
      const headers: Record<string, string> = { 'user-agent': this.opts.userAgent ?? 'hypr/0.1', ...o.headers };
      const auth = this.tokens.get(key) ?? this.basic;
      if (auth) headers.authorization = auth;
      let res: R;
      try {
        res = await transport(url, headers);
      } catch (e) {
        if (o.signal?.aborted) throw o.signal.reason;
        if (o.noRetry || attempt >= this.retries) {
          throw new RegistryError(
            'REGISTRY_UNREACHABLE',
            `cannot reach ${this.registry} (${method} ${new URL(url).pathname}): ${(e as Error).cause ? ((e as Error).cause as Error).message : (e as Error).message}`,
            undefined,
            isLoopbackRegistry(this.registry) || url.startsWith('http:')
              ? 'is the registry running?'
              : 'check the network; for a plain-http registry pass --insecure-registry',
            { cause: e },
          );
        }
        await this.backoff(attempt, `${(e as Error).message}`, o.signal);
        continue;
      }
      if (res.status === 401 && !authed) {
        authed = true;
        await res.body?.cancel().catch(() => {});
        await this.authenticate(res.headers.get('www-authenticate') ?? '', scopes, key, o.signal);
        attempt--;
        continue;
      }
      if (res.status === 401 || res.status === 403) {
        const text = await res.text().catch(() => '');
        throw new RegistryError(
          res.status === 401 ? 'REGISTRY_UNAUTHORIZED' : 'REGISTRY_DENIED',
          `${this.registry} refused ${method} ${new URL(url).pathname}: ${summariseErrors(text) || res.statusText}`,
          res.status,
          `log in with \`hypr login ${this.registry}\` or check your access to ${o.repository}`,
        );
      }
      if (RETRY_STATUS.has(res.status) && !o.noRetry && attempt < this.retries) {
        await res.body?.cancel().catch(() => {});
        const after = Number(res.headers.get('retry-after'));
        await this.backoff(
          attempt,
          `HTTP ${res.status}`,
          o.signal,
          Number.isFinite(after) && after > 0 ? after * 1000 : undefined,
        );
        continue;
      }
      return res;
    }
  }

  private async backoff(attempt: number, why: string, signal?: AbortSignal, ms?: number): Promise<void> {
    const delay = Math.min(ms ?? this.retryBaseMs * 2 ** attempt, 10_000);
    this.log.debug({ attempt, delayMs: delay, why }, 'retrying');
    await sleep(delay, signal);
  }

  private async authenticate(header: string, scopes: string[], key: string, signal?: AbortSignal): Promise<void> {
    const challenge = parseAuthChallenge(header);
    const creds = await this.getCredentials();
    if (!challenge)
      throw new RegistryError('REGISTRY_AUTH_UNSUPPORTED', `${this.registry} asked for auth without a challenge`);
    if (challenge.scheme === 'basic') {
      if (!creds?.username) {
        throw new RegistryError(
          'REGISTRY_UNAUTHORIZED',
          `${this.registry} requires a login`,
          401,
          `log in with \`hypr login ${this.registry}\``,
        );
      }
      this.basic = `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`;
      return;
    }
    if (challenge.scheme !== 'bearer' || !challenge.params.realm) {
      throw new RegistryError(
        'REGISTRY_AUTH_UNSUPPORTED',
        `${this.registry} uses unsupported auth "${challenge.scheme}"`,
      );
    }
    const realm = new URL(challenge.params.realm);
    let res: Response | StreamResponse;
    if (creds?.identityToken) {
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: creds.identityToken,
        client_id: 'hypr',
      });
      if (challenge.params.service) form.set('service', challenge.params.service);
      form.set('scope', scopes.join(' '));
      res = await fetch(realm, { method: 'POST', body: form, signal });
    } else {
      if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
      for (const s of scopes) realm.searchParams.append('scope', s);
      const headers: Record<string, string> = {};
      if (creds?.username)
        headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`;
      res = await getStream(realm.toString(), { headers, signal });
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new RegistryError(
        'REGISTRY_UNAUTHORIZED',
        `token request to ${realm.host} for ${scopes.join(' ')} failed: HTTP ${res.status}`,
        res.status,
        creds ? 'check the saved credentials' : `log in with \`hypr login ${this.registry}\``,
      );
    }
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError('REGISTRY_UNAUTHORIZED', `token service ${realm.host} returned no token`);
    this.tokens.set(key, `Bearer ${token}`);
    this.log.debug({ scopes }, 'token obtained');
  }

  /** Fetches a manifest or index by tag or digest; verifies it when asked by digest. */
  async getManifest(repository: string, reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const res = await this.requestStream(`/v2/${repository}/manifests/${reference}`, {
      repository,
      headers: { accept: MANIFEST_ACCEPT },
      signal,
    });
    if (!res.ok) throw await this.failure(res, `manifest ${repository}:${reference}`);
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (declared > MAX_MANIFEST_BYTES) {
      await res.body.cancel();
      throw new RegistryError('IMAGE_MANIFEST_INVALID', `manifest is ${declared} bytes, too large`);
    }
    const bytes = Buffer.from(await res.arrayBuffer());
    if (bytes.length > MAX_MANIFEST_BYTES) throw new RegistryError('IMAGE_MANIFEST_INVALID', 'manifest too large');
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const expected = reference.startsWith('sha256:') ? reference : res.headers.get('docker-content-digest');
    if (expected?.startsWith('sha256:') && expected !== digest) {
      throw new RegistryError(
        'IMAGE_BLOB_DIGEST_MISMATCH',
        `manifest ${repository}@${expected} from ${this.registry} has digest ${digest}`,
        undefined,
        'the registry served corrupted or tampered data',
      );
    }
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0].trim();
    return { bytes, mediaType, digest };
  }

  /** HEAD of a manifest: its digest and type without the body, or undefined when absent. */
  async headManifest(
    repository: string,
    reference: string,
    signal?: AbortSignal,
  ): Promise<{ digest?: string; mediaType: string } | undefined> {
    const res = await this.request('HEAD', `/v2/${repository}/manifests/${reference}`, {
      repository,
      headers: { accept: MANIFEST_ACCEPT },
      signal,
    });
    if (res.status === 404) return undefined;
    if (!res.ok) throw await this.failure(res, `manifest ${repository}:${reference}`);
    return {
      digest: res.headers.get('docker-content-digest') ?? undefined,
      mediaType: res.headers.get('content-type') ?? '',
    };
  }

  /** Starts a blob download, from `offsetBytes` when resuming. The caller reads (and verifies) the body. */
  async getBlob(
    repository: string,
    digest: string,
    opts: { offsetBytes?: number; signal?: AbortSignal } = {},
  ): Promise<StreamResponse> {
    const headers: Record<string, string> = {};
    if (opts.offsetBytes) headers.range = `bytes=${opts.offsetBytes}-`;
    const res = await this.requestStream(`/v2/${repository}/blobs/${digest}`, {
      repository,
      headers,
      signal: opts.signal,
    });
    if (!res.ok) throw await this.failure(res, `blob ${digest}`);
    return res;
  }

  /** The size of a blob in the repository, or undefined when it is not there. */
  async blobSize(
    repository: string,
    digest: string,
    signal?: AbortSignal,
    actions?: ('pull' | 'push')[],
  ): Promise<number | undefined> {
    const res = await this.request('HEAD', `/v2/${repository}/blobs/${digest}`, { repository, actions, signal });
    if (res.status === 404) return undefined;
    if (!res.ok) throw await this.failure(res, `blob ${digest}`);
    return Number(res.headers.get('content-length') ?? 0);
  }

  /**
   * Asks the registry to mount a blob from another repository. Returns true when mounted; false
   * when the registry declined (an upload session it opened is cancelled).
   */
  async mountBlob(repository: string, digest: string, from: string, signal?: AbortSignal): Promise<boolean> {
    const q = new URLSearchParams({ mount: digest, from });
    const res = await this.request('POST', `/v2/${repository}/blobs/uploads/?${q}`, {
      repository,
      actions: ['pull', 'push'],
      extraScopes: [`repository:${from}:pull`],
      signal,
    });
    await res.body?.cancel().catch(() => {});
    if (res.status === 201) return true;
    if (res.status === 202) {
      const loc = res.headers.get('location');
      if (loc) {
        await this.request('DELETE', this.resolveLocation(loc), { repository, actions: ['pull', 'push'], signal })
          .then((r) => r.body?.cancel())
          .catch(() => {});
      }
      return false;
    }
    return false;
  }

  /**
   * Uploads a blob. Blobs up to `chunkSizeBytes` go in one PUT (monolithic); larger ones as PATCH
   * chunks then a closing PUT. `readChunk(offset, length)` supplies the bytes.
   */
  async uploadBlob(
    repository: string,
    digest: string,
    sizeBytes: number,
    readChunk: (offset: number, length: number) => Promise<Uint8Array>,
    opts: { chunkSizeBytes?: number; signal?: AbortSignal; onProgress?: (doneBytes: number) => void } = {},
  ): Promise<void> {
    const chunk = opts.chunkSizeBytes ?? 16 << 20;
    const ro: RequestOptions = { repository, actions: ['pull', 'push'], signal: opts.signal };
    const start = await this.request('POST', `/v2/${repository}/blobs/uploads/`, ro);
    await start.body?.cancel().catch(() => {});
    if (start.status !== 202) throw await this.failure(start, `upload of ${digest}`);
    let location = this.resolveLocation(start.headers.get('location') ?? '');
    if (sizeBytes <= chunk) {
      const body = await readChunk(0, sizeBytes);
      const res = await this.request('PUT', withQuery(location, { digest }), {
        ...ro,
        body,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(body.length) },
      });
      await res.body?.cancel().catch(() => {});
      if (res.status !== 201) throw await this.failure(res, `upload of ${digest}`);
      opts.onProgress?.(sizeBytes);
      return;
    }
    for (let off = 0; off < sizeBytes; off += chunk) {
      const body = await readChunk(off, Math.min(chunk, sizeBytes - off));
      const res = await this.request('PATCH', location, {
        ...ro,
        body,
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': String(body.length),
          'content-range': `${off}-${off + body.length - 1}`,
        },
      });
      await res.body?.cancel().catch(() => {});
      if (res.status !== 202) throw await this.failure(res, `upload of ${digest}`);
      location = this.resolveLocation(res.headers.get('location') ?? location);
      opts.onProgress?.(off + body.length);
    }
    const res = await this.request('PUT', withQuery(location, { digest }), {
      ...ro,
      headers: { 'content-length': '0' },
    });
    await res.body?.cancel().catch(() => {});
    if (res.status !== 201) throw await this.failure(res, `upload of ${digest}`);
  }

  /** Puts a manifest under a tag or digest; returns the digest the registry reports. */
  async putManifest(
    repository: string,
    reference: string,
    mediaType: string,
    bytes: Uint8Array,
    signal?: AbortSignal,
  ): Promise<string> {
    const res = await this.request('PUT', `/v2/${repository}/manifests/${reference}`, {
      repository,
      actions: ['pull', 'push'],
      body: bytes,
      headers: { 'content-type': mediaType },
      signal,
    });
    await res.body?.cancel().catch(() => {});
    if (res.status !== 201 && res.status !== 200) throw await this.failure(res, `manifest ${repository}:${reference}`);
    return res.headers.get('docker-content-digest') ?? `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  }

  /** Lists the tags of a repository. */
  async listTags(repository: string, signal?: AbortSignal): Promise<string[]> {
    const res = await this.request('GET', `/v2/${repository}/tags/list`, { repository, signal });
    if (!res.ok) throw await this.failure(res, `tags of ${repository}`);
    return ((await res.json()) as { tags?: string[] | null }).tags ?? [];
  }

  resolveLocation(loc: string): string {
    return new URL(loc, `${this.baseUrl}/`).toString();
  }

  private async failure(res: Response | StreamResponse, what: string): Promise<RegistryError> {
    const text = await res.text().catch(() => '');
    const detail = summariseErrors(text) || `HTTP ${res.status} ${res.statusText}`;
    if (res.status === 404) {
      return new RegistryError(
        what.startsWith('manifest') ? 'IMAGE_NOT_FOUND' : 'IMAGE_BLOB_NOT_FOUND',
        `${what} not found on ${this.registry}: ${detail}`,
        404,
        what.startsWith('manifest') ? 'check the repository name and tag' : undefined,
      );
    }
    return new RegistryError('REGISTRY_ERROR', `${what} on ${this.registry} failed: ${detail}`, res.status);
  }
}

function withQuery(url: string, q: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(q)) u.searchParams.set(k, v);
  return u.toString();
}

function summariseErrors(text: string): string {
  try {
    const doc = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    return (doc.errors ?? []).map((e) => `${e.code ?? 'ERROR'}: ${e.message ?? ''}`).join('; ');
  } catch {
    return text.slice(0, 200).trim();
  }
}
