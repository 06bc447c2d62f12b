/**
 * Tools that run inside a running container through an exec session, with no binary of the image:
 * Kestrel itself, reachable in the container's root as /proc/1/exe (guest/ps.c).
 */
import { HyprError } from '../errors.js';
import type { ExecOptions, ExecSession } from './exec-session.js';

/** Kestrel's own binary, seen from inside the container. */
export const KESTREL_IN_GUEST = '/proc/1/exe';

/** `docker top`'s answer: column titles and one row per process. */
export interface ProcessTable {
  titles: string[];
  processes: string[][];
}

/** The container's processes as `ps -ef` shows them: UID PID PPID C STIME TTY TIME CMD. */
export async function listProcesses(exec: (o: ExecOptions) => ExecSession): Promise<ProcessTable> {
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
