/**
 * What `hypr build PATH|-` sends: the Dockerfile's text (read here, from -f, stdin or the context),
 * the .dockerignore the CLI applied, and the context as a tar stream. docker's rules: `-` is a tar
 * context on stdin (plain or gzip) or, when stdin is not a tar, a Dockerfile with an empty context;
 * URLs and git contexts are not supported.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CliError } from '../hypr-command.js';
import { listContext, packContext, rechunk } from './context-tar.js';

export interface BuildSource {
  /** The Dockerfile's text; absent: `dockerfileName` inside a tar context. */
  dockerfile?: string;
  dockerfileName: string;
  /** The .dockerignore applied here; absent: the tar context's own. */
  dockerignore?: string;
  context: AsyncIterable<Uint8Array>;
}

const REMOTE = /^(https?:\/\/|git@|git:\/\/|ssh:\/\/|github\.com\/)|\.git(#.*)?$/;

/** Reads all of stdin. */
async function readAll(stdin: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of stdin) parts.push(p);
  return Buffer.concat(parts);
}

/** The first `n` bytes of a stream (fewer at its end), and the stream from there on. */
async function peek(
  stream: AsyncIterable<Uint8Array>,
  n: number,
): Promise<{ head: Buffer; rest: AsyncIterable<Uint8Array> }> {
  const it = stream[Symbol.asyncIterator]();
  const parts: Uint8Array[] = [];
  let held = 0;
  while (held < n) {
    const r = await it.next();
    if (r.done) break;
    parts.push(r.value);
    held += r.value.byteLength;
  }
  const head = Buffer.concat(parts);
  async function* rest(): AsyncGenerator<Uint8Array> {
    yield head;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { head, rest: rest() };
}

/** A tar archive by its magic ("ustar" at 257), or gzip/bzip2/xz/zstd compression. */
function looksLikeArchive(head: Buffer): boolean {
  if (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return true;
  const starts = (...b: number[]) => b.every((x, i) => head[i] === x);
  return (
    starts(0x1f, 0x8b) ||
    starts(0x42, 0x5a, 0x68) ||
    starts(0xfd, 0x37, 0x7a, 0x58, 0x5a) ||
    starts(0x28, 0xb5, 0x2f, 0xfd)
  );
}

async function readDockerfile(path: string, display: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(
      `failed to read dockerfile: open ${display}: ${code === 'ENOENT' ? 'no such file or directory' : code === 'EISDIR' ? 'is a directory' : (code ?? 'cannot read')}`,
      1,
      'name the Dockerfile with -f, or put one in the build context',
    );
  }
}

export async function resolveBuildSource(
  pathArg: string,
  file: string | undefined,
  stdin: AsyncIterable<Uint8Array> = process.stdin,
  cwd = process.cwd(),
): Promise<BuildSource> {
  if (REMOTE.test(pathArg))
    throw new CliError(
      `unable to prepare context: ${pathArg}: remote (URL and git) build contexts are not supported`,
      1,
      'clone or download it, then build the local directory',
    );
  if (pathArg === '-') {
    if (file === '-') throw new CliError("invalid argument: can't use stdin for both build context and dockerfile");
    const { head, rest } = await peek(stdin, 512);
    if (looksLikeArchive(head)) return { dockerfileName: file ?? 'Dockerfile', context: rechunk(rest) };
    const text = (await readAll(rest)).toString('utf8'); // `rest` starts with the peeked bytes
    return { dockerfile: text, dockerfileName: 'Dockerfile', dockerignore: '', context: packContext(cwd, []) };
  }
  const dir = resolve(cwd, pathArg);
  const st = await stat(dir).catch(() => undefined);
  if (!st) throw new CliError(`unable to prepare context: path "${pathArg}" not found`);
  if (!st.isDirectory())
    throw new CliError(
      `unable to prepare context: path "${pathArg}" is not a directory`,
      1,
      'give the directory that holds the build context',
    );
  let dockerfile: string;
  let dockerfileName = 'Dockerfile';
  let dockerfilePath: string | undefined;
  if (file === '-') dockerfile = (await readAll(stdin)).toString('utf8');
  else {
    dockerfilePath = file ? resolve(cwd, file) : join(dir, 'Dockerfile');
    dockerfileName = basename(dockerfilePath);
    dockerfile = await readDockerfile(dockerfilePath, file ?? join(pathArg, 'Dockerfile'));
  }
  // BuildKit: <Dockerfile>.dockerignore beside the Dockerfile wins over the context's .dockerignore.
  const own = dockerfilePath ? join(dirname(dockerfilePath), `${dockerfileName}.dockerignore`) : undefined;
  const ignoreFile = own && existsSync(own) ? own : join(dir, '.dockerignore');
  const dockerignore = existsSync(ignoreFile) ? await readFile(ignoreFile, 'utf8') : '';
  const paths = await listContext(dir, dockerignore);
  return { dockerfile, dockerfileName, dockerignore, context: packContext(dir, paths) };
}
