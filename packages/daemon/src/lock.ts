import { chmodSync, closeSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { HyprError } from '@hypr/core';

/** The little of better-sqlite3 the lock uses (its types are a dev dependency of @hypr/core only). */
interface LockDb {
  exec(sql: string): void;
  close(): void;
}
const Database = createRequire(import.meta.url)('better-sqlite3') as new (
  path: string,
  opts: { timeout: number },
) => LockDb;

/** The lock file beside the pid file: an empty SQLite database whose write lock the daemon holds. */
const LOCK_FILE = 'hyprd.lock';

/** Locks held by this process: referenced here so that no garbage collection ever closes one. */
const held = new Set<LockDb>();

function readPid(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the data root for this process and writes its pid to `pidPath` (`$HYPR_HOME/hyprd.pid`).
 * Returns the release function.
 *
 * The lock is a kernel lock that dies with its holder: `hyprd.lock` beside the pid file, held with
 * SQLite's `BEGIN EXCLUSIVE` (fcntl record locks, which the kernel drops when the process ends, even
 * by kill -9). Of any number of daemons starting at once exactly one gets it; a pid file left by a
 * crashed daemon, or naming a pid reused by another process, has no say. Node has no flock(2);
 * better-sqlite3 is already hyprd's, prebuilt, so this needs no compiler and no helper process.
 */
export function acquireDaemonLock(pidPath: string, dataRoot: string): () => void {
  const lockPath = join(dirname(pidPath), LOCK_FILE);
  let db: LockDb;
  try {
    closeSync(openSync(lockPath, 'a', 0o600));
    chmodSync(lockPath, 0o600);
    // timeout 0: a held lock is an answer, not something to wait for.
    db = new Database(lockPath, { timeout: 0 });
  } catch (e) {
    throw new HyprError(
      'DAEMON_LOCK_FAILED',
      `could not take the lock ${lockPath}: ${(e as Error).message}`,
      'check that the data root is writable by this user',
      { cause: e },
    );
  }
  try {
    db.exec('BEGIN EXCLUSIVE');
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code !== 'SQLITE_BUSY')
      throw new HyprError(
        'DAEMON_LOCK_FAILED',
        `could not take the lock ${lockPath}: ${(e as Error).message}`,
        undefined,
        {
          cause: e,
        },
      );
    const pid = readPid(pidPath);
    throw new HyprError(
      'DAEMON_ALREADY_RUNNING',
      `another hyprd${pid ? ` (pid ${pid})` : ''} is already using ${dataRoot}`,
      `stop it first, or give this one its own --data-root (HYPR_HOME); its lock file is ${lockPath}`,
    );
  }
  held.add(db);
  try {
    const tmp = `${pidPath}.${process.pid}.tmp`;
    writeFileSync(tmp, `${process.pid}\n`, { mode: 0o600 });
    renameSync(tmp, pidPath);
  } catch (e) {
    held.delete(db);
    db.close();
    throw new HyprError('DAEMON_LOCK_FAILED', `could not write ${pidPath}: ${(e as Error).message}`, undefined, {
      cause: e,
    });
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (readPid(pidPath) === process.pid) rmSync(pidPath, { force: true });
    held.delete(db);
    db.close(); // closing ends the transaction and drops the lock
  };
}
