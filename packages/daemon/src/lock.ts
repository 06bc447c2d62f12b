import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { HyprError } from '@hypr/core';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `path` (`$HYPR_HOME/hyprd.pid`) for this process: refuses when a live hyprd holds it, takes
 * over one left by a daemon that died. Returns the release function.
 */
export function acquireDaemonLock(path: string, dataRoot: string): () => void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return () => {
        try {
          if (Number(readFileSync(path, 'utf8')) === process.pid) rmSync(path, { force: true });
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = Number(readFileSync(path, 'utf8').trim());
    if (pid > 0 && pid !== process.pid && alive(pid))
      throw new HyprError(
        'DAEMON_ALREADY_RUNNING',
        `another hyprd (pid ${pid}) is already using ${dataRoot}`,
        `stop it first, or give this one its own --data-root (HYPR_HOME); its lock file is ${path}`,
      );
    rmSync(path, { force: true }); // stale: the daemon that wrote it is gone
  }
  throw new HyprError('DAEMON_LOCK_FAILED', `could not take the lock ${path}`);
}
