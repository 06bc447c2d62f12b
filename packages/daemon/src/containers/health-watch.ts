/**
 * Health wiring: a HealthMonitor per running container that has a check, its status written to
 * the row and published as `health_status: …` events, its recent results kept for inspect.
 */
import type { Logger } from '@hypr/core';
import type { ContainerEvents } from './events.js';
import { HealthMonitor, type HealthResult, healthArgv } from './health.js';
import type { VmHandle } from './runtime/runtime.js';
import type { ContainerStore } from './store.js';
import { storedConfig } from './store.js';

export class HealthWatch {
  private readonly monitors = new Map<string, HealthMonitor>();

  constructor(
    private readonly store: ContainerStore,
    private readonly events: ContainerEvents,
    private readonly logger: Logger,
  ) {}

  /** Runs the container's health check, if it has one, while `handle` runs. */
  watch(id: string, handle: VmHandle): void {
    this.stop(id);
    const row = this.store.get(id);
    const cfg = row && storedConfig(row);
    const argv = cfg?.healthcheck && healthArgv(cfg.healthcheck.test);
    if (!cfg?.healthcheck || !argv || !handle.exec) return;
    const monitor = new HealthMonitor(
      cfg.healthcheck,
      argv,
      handle,
      { env: cfg.env, workdir: cfg.workdir, user: cfg.user },
      (status) => {
        this.store.update(id, { health: status });
        this.events.publish(`health_status: ${status}`, id);
      },
      this.logger.child({ id, op: 'health' }),
    );
    this.monitors.set(id, monitor);
    this.store.update(id, { health: 'starting' });
    monitor.start();
  }

  stop(id: string): void {
    this.monitors.get(id)?.stop();
    this.monitors.delete(id);
  }

  stopAll(): void {
    for (const m of this.monitors.values()) m.stop();
  }

  /** The health check's recent results, for inspect. */
  of(id: string): { failingStreak: number; log: HealthResult[] } | undefined {
    const m = this.monitors.get(id);
    return m ? { failingStreak: m.failingStreak, log: m.log } : undefined;
  }
}
