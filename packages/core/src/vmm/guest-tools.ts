/**
 * Tools that run inside a running container through an exec session, with no binary of the image:
 * Kestrel itself, reachable in the container's root as /proc/1/exe (guest/ps.c).
 */
import { PassThrough, type Readable } from 'node:stream';
import { HyprError } from '../errors.js';
import type { ExecOptions, ExecSession } from './exec-session.js';

type Exec = (o: ExecOptions) => ExecSession;

/** Kestrel's own binary, seen from inside the container. */
export const KESTREL_IN_GUEST = '/proc/1/exe';

/** `docker top`'s answer: column titles and one row per process. */
export interface ProcessTable {
  titles: string[];
  processes: string[][];
}

/** The container's processes as `ps -ef` shows them: UID PID PPID C STIME TTY TIME CMD. */
export async function listProcesses(exec: Exec): Promise<ProcessTable> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const session = exec({
    argv: [KESTREL_IN_GUEST, 'ps'],
    user: '0',
    onStdout: (b) => out.push(b),
    onStderr: (b) => err.push(b),
  });
  const { exitCode, error } = await session.wait();
  if (exitCode !== 0)
    throw new HyprError(
      'EXEC_FAILED',
      `listing the container's processes failed (${exitCode}): ${error ?? (Buffer.concat(err).toString().trim() || 'no message')}`,
    );
  const [header = '', ...rows] = Buffer.concat(out).toString('utf8').split('\n').filter(Boolean);
  return { titles: header.split('\t'), processes: rows.map((r) => r.split('\t')) };
}

/**
 * `docker cp CONTAINER:PATH -`: a tar of PATH as it is in the running container, its entries named
 * from PATH's last component (`/etc` → `etc/`, `etc/passwd` …). Uncompressed, owners and modes kept.
 * The stream fails with a HyprError when the path is not there.
 */
export function copyFromGuest(exec: Exec, path: string): Readable {
  const tar = new PassThrough();
  const err: Buffer[] = [];
  const session = exec({
    argv: [KESTREL_IN_GUEST, 'tar-create', path],
    user: '0',
    onStdout: (b) => tar.write(b),
    onStderr: (b) => err.push(b),
  });
  session.wait().then(({ exitCode, error }) => {
    if (exitCode === 0) tar.end();
    else tar.destroy(copyError('from', path, exitCode, error, err));
  });
  return tar;
}

/**
 * `docker cp - CONTAINER:DIR`: unpacks a tar into DIR (which must exist) in the running container,
 * with the archive's names, owners, modes and times; names with `..` are refused.
 */
export async function copyToGuest(exec: Exec, dir: string, tar: Readable | Buffer): Promise<void> {
  const err: Buffer[] = [];
  const session = exec({ argv: [KESTREL_IN_GUEST, 'tar-extract', dir], user: '0', onStderr: (b) => err.push(b) });
  if (Buffer.isBuffer(tar)) session.write(tar);
  else for await (const chunk of tar) session.write(chunk as Buffer);
  session.end();
  const { exitCode, error } = await session.wait();
  if (exitCode !== 0) throw copyError('into', dir, exitCode, error, err);
}

function copyError(way: string, path: string, exitCode: number, error: string | undefined, err: Buffer[]): HyprError {
  const why =
    error ??
    Buffer.concat(err)
      .toString()
      .trim()
      .replace(/^kestrel: /gm, '');
  return new HyprError(
    'EXEC_FAILED',
    `copying ${way} the container at ${path} failed (${exitCode}): ${why || 'no message'}`,
  );
}
