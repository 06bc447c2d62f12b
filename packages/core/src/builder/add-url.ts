import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AddInstruction } from '../dockerfile/index.js';
import { SourceError } from '../errors.js';

/**
 * `ADD <http(s) url>`: the file is downloaded on the host before the layer is written, checked
 * against `--checksum` when given, and copied as BuildKit does: named after the URL's last path
 * segment (or the destination), mode 0600, owned by root (or --chown), never unpacked, its mtime the
 * server's Last-Modified (clamped like every mtime).
 */
export interface RemoteSource {
  /** Where the download is on the host. */
  hostPath: string;
  /** The file name BuildKit gives it. */
  name: string;
  sizeBytes: number;
  /** Seconds since the epoch. */
  mtime: number;
}

export const isUrlSource = (path: string) => /^https?:\/\//i.test(path);

function urlFileName(url: URL): string {
  const last = url.pathname.split('/').filter(Boolean).pop();
  return last ? decodeURIComponent(last) : 'index.html';
}

/** Downloads every http(s) source of an ADD into `dir`; the map is keyed by the source as written. */
export async function downloadAddSources(
  step: AddInstruction,
  dir: string,
  file: string | undefined,
  signal?: AbortSignal,
): Promise<Map<string, RemoteSource>> {
  const out = new Map<string, RemoteSource>();
  const fail = (code: 'BUILD_ADD_DOWNLOAD_FAILED' | 'BUILD_ADD_CHECKSUM_MISMATCH', message: string, hint?: string) =>
    new SourceError(code, message, file, step.line, step.column, hint);
  for (const [i, s] of step.sources.entries()) {
    if (s.kind !== 'path' || !isUrlSource(s.path)) continue;
    const url = new URL(s.path);
    let res: Response;
    try {
      res = await fetch(url, { signal, redirect: 'follow' });
    } catch (e) {
      throw fail(
        'BUILD_ADD_DOWNLOAD_FAILED',
        `ADD ${s.path}: ${(e as Error).message}`,
        'check the URL and the network',
      );
    }
    if (!res.ok || !res.body)
      throw fail('BUILD_ADD_DOWNLOAD_FAILED', `ADD ${s.path}: the server answered ${res.status} ${res.statusText}`);
    await mkdir(join(dir, String(i)), { recursive: true });
    const hostPath = join(dir, String(i), 'download');
    const algorithm = step.checksum?.split(':')[0] ?? 'sha256';
    const hash = createHash(algorithm);
    let sizeBytes = 0;
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    body.on('data', (c: Buffer) => {
      hash.update(c);
      sizeBytes += c.length;
    });
    await pipeline(body, createWriteStream(hostPath, { mode: 0o600 }), { signal });
    const digest = `${algorithm}:${hash.digest('hex')}`;
    if (step.checksum !== undefined && digest !== step.checksum)
      throw fail(
        'BUILD_ADD_CHECKSUM_MISMATCH',
        `ADD ${s.path}: checksum ${step.checksum} expected, the download is ${digest}`,
        'fix --checksum, or the URL if the file changed',
      );
    const modified = Date.parse(res.headers.get('last-modified') ?? '');
    out.set(s.path, {
      hostPath,
      name: urlFileName(url),
      sizeBytes,
      mtime: Number.isNaN(modified) ? 0 : modified / 1000,
    });
  }
  return out;
}
