/**
 * Kestrel's own tools in a running container, run through exec with no binary of the image:
 * `/proc/1/exe tar-create PATH` (a tar of PATH on stdout), `tar-extract DIR` (a tar from stdin) and
 * `ps` (guest/cp.c, guest/ps.c). What `hypr cp`, `hypr top` and `hypr export` are made of.
 */
import { HyprError, type TarHeader, readTar } from '@hypr/core';
import { AsyncQueue } from '../async-queue.js';
import type { ExecOptions, ExecSession } from './runtime/runtime.js';

export type Exec = (o: ExecOptions) => ExecSession;

/** Kestrel's binary, seen from inside the container. */
const KESTREL = '/proc/1/exe';

export interface GuestTar {
  /** The tar's bytes; fails with a HyprError when the guest could not write it. */
  chunks: AsyncGenerator<Buffer>;
  /** Ends the guest's tar early (the reader has what it needed). */
  cancel(): void;
}

/** Why a Kestrel tool failed, from its stderr ("kestrel: stat /x: No such file or directory"). */
function guestWhy(err: Buffer[], error: string | undefined, exitCode: number): string {
  const text = Buffer.concat(err)
    .toString()
    .trim()
    .replace(/^kestrel: /gm, '');
  return error ?? (text || `exit status ${exitCode}`);
}

/**
 * A Kestrel tool that writes a tar on stdout, run as root: its bytes, or the HyprError `failed` makes of
 * why it failed (its stderr, or the exec's error). cancel() kills it (the reader has what it needed).
 */
export function guestTarOut(exec: Exec, argv: string[], failed: (why: string) => HyprError): GuestTar {
  const q = new AsyncQueue<Buffer>();
  const err: Buffer[] = [];
  let done = false;
  const session = exec({ argv, user: '0', onStdout: (b) => q.push(b), onStderr: (b) => err.push(b) });
  session.wait().then(
    ({ exitCode, error }) => {
      const cancelled = done;
      done = true;
      if (exitCode === 0 || cancelled) return q.end();
      q.end(failed(guestWhy(err, error, exitCode)));
    },
    (e) => {
      done = true;
      q.end(e);
    },
  );
  return {
    chunks: q.drain(),
    cancel: () => {
      if (done) return;
      done = true;
      session.signal('KILL');
    },
  };
}

/** A tar of PATH as it is in the running container, entries named from PATH's last component. */
export function guestTarCreate(exec: Exec, path: string, container: string): GuestTar {
  return guestTarOut(exec, [KESTREL, 'tar-create', path], (why) =>
    /No such file or directory|Not a directory/.test(why)
      ? new HyprError(
          'CONTAINER_PATH_NOT_FOUND',
          `Could not find the file ${path} in container ${container}`,
          'check the path with hypr exec CONTAINER ls',
        )
      : new HyprError('CONTAINER_COPY_FAILED', `copying ${path} out of container ${container} failed: ${why}`),
  );
}

/** The first entry of a tar stream (what the path at its top is); the rest is not read. */
export async function firstTarHeader(chunks: AsyncIterable<Buffer>): Promise<TarHeader | undefined> {
  for await (const e of readTar(chunks)) return e.header;
  return undefined;
}

/** Unpacks a tar into DIR (which must exist) in the running container, names, owners and modes kept. */
export async function guestTarExtract(
  exec: Exec,
  dir: string,
  chunks: AsyncIterable<Uint8Array>,
  container: string,
): Promise<void> {
  const err: Buffer[] = [];
  const session = exec({ argv: [KESTREL, 'tar-extract', dir], user: '0', onStderr: (b) => err.push(b) });
  try {
    for await (const c of chunks) session.write(Buffer.from(c));
  } finally {
    session.end();
  }
  const { exitCode, error } = await session.wait();
  if (exitCode === 0) return;
  const why = guestWhy(err, error, exitCode);
  if (/^chdir .*No such file or directory/m.test(why))
    throw new HyprError(
      'CONTAINER_PATH_NOT_FOUND',
      `Could not find the file ${dir} in container ${container}`,
      'the destination directory must exist in the container',
    );
  throw new HyprError('CONTAINER_COPY_FAILED', `copying into ${dir} in container ${container} failed: ${why}`);
}

/** Runs ARGV as root in the container; its stdout, or a HyprError naming what failed. */
export async function guestOutput(exec: Exec, argv: string[], what: string): Promise<string> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const session = exec({
    argv,
    user: '0',
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    onStdout: (b) => out.push(b),
    onStderr: (b) => err.push(b),
  });
  const { exitCode, error } = await session.wait();
  if (exitCode !== 0)
    throw new HyprError(
      'EXEC_FAILED',
      `${what} failed (${exitCode}): ${guestWhy(err, error, exitCode)}`,
      exitCode === 127 ? `the image has no ${argv[0]}` : undefined,
    );
  return Buffer.concat(out).toString('utf8');
}

/** The container's processes as `ps -ef` shows them (Kestrel's ps: UID PID PPID C STIME TTY TIME CMD). */
export async function guestProcesses(
  exec: Exec,
  psArgs: readonly string[],
): Promise<{ titles: string[]; rows: string[][] }> {
  if (!psArgs.length) {
    const text = await guestOutput(exec, [KESTREL, 'ps'], "listing the container's processes");
    const [header = '', ...rows] = text.split('\n').filter(Boolean);
    return { titles: header.split('\t'), rows: rows.map((r) => r.split('\t')) };
  }
  // ps options: the image's own ps, its columns split as docker splits them (by the header's words,
  // the last column taking the rest of the line).
  const text = await guestOutput(exec, ['ps', ...psArgs], `ps ${psArgs.join(' ')}`);
  const [header = '', ...lines] = text.split('\n').filter((l) => l.trim());
  const titles = header.trim().split(/\s+/);
  const rows = lines.map((l) => {
    const cells = l.trim().split(/\s+/);
    return [...cells.slice(0, titles.length - 1), cells.slice(titles.length - 1).join(' ')];
  });
  return { titles, rows };
}
