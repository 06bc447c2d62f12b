/**
 * Docker health checks, run in the guest through the runtime's exec: every interval the check
 * command runs; exit 0 is healthy, a failure counts towards `retries` (not during the start
 * period), a run past its timeout is a failure. The status goes to the state database (ps, inspect).
 */
import type { Logger } from '@hypr/core';
import type { VmHandle } from './runtime/runtime.js';
import type { HealthcheckConfig } from './types.js';

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

export interface HealthResult {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

const DEFAULTS = { intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, retries: 3 };
const MAX_OUTPUT = 4096;
const MAX_LOG = 5;

/** The argv of a HEALTHCHECK test: `CMD-SHELL cmd` runs through /bin/sh, `CMD a b` as is; undefined for NONE. */
export function healthArgv(test: readonly string[]): string[] | undefined {
  const [kind, ...rest] = test;
  if (!kind || kind === 'NONE') return undefined;
  if (kind === 'CMD-SHELL') return ['/bin/sh', '-c', rest.join(' ')];
  if (kind === 'CMD') return rest.length ? rest : undefined;
  return [...test];
}

export class HealthMonitor {
  status: HealthStatus = 'starting';
  failingStreak = 0;
  readonly log: HealthResult[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly startedAt = Date.now();
  private readonly o: typeof DEFAULTS;

  constructor(
    check: HealthcheckConfig,
    private readonly argv: string[],
    private readonly handle: VmHandle,
    private readonly exec: { env: string[]; workdir?: string; user?: string },
    private readonly onChange: (status: HealthStatus) => void,
    private readonly logger: Logger,
  ) {
    this.o = {
      intervalMs: check.intervalMs || DEFAULTS.intervalMs,
      timeoutMs: check.timeoutMs || DEFAULTS.timeoutMs,
      startPeriodMs: check.startPeriodMs || DEFAULTS.startPeriodMs,
      retries: check.retries || DEFAULTS.retries,
    };
  }

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.runOnce().finally(() => this.schedule()), this.o.intervalMs);
    this.timer.unref();
  }

  private async runOnce(): Promise<void> {
    if (this.stopped || !this.handle.exec) return;
    const start = new Date();
    let output = '';
    const collect = (b: Buffer) => {
      if (output.length < MAX_OUTPUT) output += b.toString('utf8').slice(0, MAX_OUTPUT - output.length);
    };
    let exitCode: number;
    let timer: NodeJS.Timeout | undefined;
    try {
      const session = this.handle.exec({ argv: this.argv, ...this.exec, onStdout: collect, onStderr: collect });
      const timedOut = new Promise<number>((resolve) => {
        timer = setTimeout(() => {
          session.signal('KILL');
          output = `Health check exceeded timeout (${this.o.timeoutMs / 1000}s)`;
          resolve(-1);
        }, this.o.timeoutMs);
      });
      const finished = session.wait().then((r) => {
        if (r.error && !output) output = r.error;
        return r.exitCode;
      });
      exitCode = await Promise.race([finished, timedOut]);
    } catch (e) {
      exitCode = -1;
      output = (e as Error).message;
    } finally {
      clearTimeout(timer);
    }
    if (this.stopped) return;
    this.log.push({ Start: start.toISOString(), End: new Date().toISOString(), ExitCode: exitCode, Output: output });
    if (this.log.length > MAX_LOG) this.log.shift();
    const before = this.status;
    if (exitCode === 0) {
      this.failingStreak = 0;
      this.status = 'healthy';
    } else if (Date.now() - this.startedAt >= this.o.startPeriodMs || this.status !== 'starting') {
      this.failingStreak++;
      if (this.failingStreak >= this.o.retries) this.status = 'unhealthy';
    }
    if (this.status !== before) {
      this.logger.info({ status: this.status, exitCode }, 'health changed');
      this.onChange(this.status);
    }
  }
}
