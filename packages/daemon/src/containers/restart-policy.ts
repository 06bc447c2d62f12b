/**
 * Docker's restart policies: whether an exit restarts the container, after what delay (doubling
 * from 100 ms up to 10 s, as docker's), and the timers of the restarts waiting to happen.
 */
import type { VmExit } from './runtime/runtime.js';
import type { ContainerRow, StoredContainerConfig } from './types.js';

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 10_000;

/** True when `exit` restarts the container under its policy (never after stop, kill or rm). */
export function shouldRestart(row: ContainerRow, config: StoredContainerConfig, exit: VmExit): boolean {
  const policy = config.create.restartPolicy;
  if (!policy || policy.name === 'no' || row.stoppedByUser || row.state === 'removing') return false;
  if (policy.name === 'always' || policy.name === 'unless-stopped') return true;
  if (policy.name === 'on-failure') {
    const max = policy.maximumRetryCount ?? 0;
    return exit.exitCode !== 0 && (max === 0 || row.restartCount < max);
  }
  return false;
}

/** True when a container that was running when hyprd went away starts again with hyprd. */
export function restartsWithDaemon(row: ContainerRow, config: StoredContainerConfig): boolean {
  const policy = config.create.restartPolicy?.name;
  return (policy === 'always' || policy === 'unless-stopped') && !row.stoppedByUser;
}

export function restartDelayMs(restartCount: number): number {
  return Math.min(FIRST_DELAY_MS * 2 ** restartCount, MAX_DELAY_MS);
}

/** The pending restarts, one timer per container. */
export class RestartTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  schedule(id: string, delayMs: number, fn: () => void): void {
    this.cancel(id);
    this.timers.set(
      id,
      setTimeout(() => {
        this.timers.delete(id);
        fn();
      }, delayMs),
    );
  }

  cancel(id: string): void {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
  }

  cancelAll(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
