/**
 * Waiting on containers: a dependent service starts once each of its depends_on conditions holds
 * (service_started, service_healthy, service_completed_successfully), and `up --wait` returns once
 * every container is running (healthy where it has a health check) or exited 0.
 */
import { HyprError } from '@hypr/core';
import type { StackDependency } from '@hypr/core/compose';
import type { StackContainerOps } from './deps.js';
import { isRunning, projectContainers } from './members.js';
import type { Emit, StackContainerView } from './types.js';

const HEALTH_POLL_MS = 250;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class StackWaiter {
  constructor(private readonly containers: StackContainerOps) {}

  /** Resolves once `service` meets a dependent's condition; throws when it never will. */
  async condition(project: string, service: string, condition: StackDependency['condition'], emit: Emit) {
    if (condition === 'service_started') return;
    const targets = projectContainers(this.containers, project).filter((c) => c.service === service);
    await Promise.all(
      targets.map(async (c) => {
        emit({ kind: 'Container', name: c.view.row.name, status: 'Waiting', service });
        if (condition === 'service_completed_successfully') await this.completed(c, emit);
        else await this.healthy(c, emit);
      }),
    );
  }

  private async completed(c: StackContainerView, emit: Emit): Promise<void> {
    const exit = await this.containers.wait(c.view.row.id, 'not-running');
    if (exit.exitCode !== 0)
      throw new HyprError(
        'COMPOSE_DEPENDENCY_FAILED',
        `service "${c.service}" didn't complete successfully: exit ${exit.exitCode}`,
        `hypr compose logs ${c.service}`,
      );
    emit({ kind: 'Container', name: c.view.row.name, status: 'Exited', service: c.service });
  }

  /** service_healthy: the container's health, as its health checks report it. */
  private async healthy(c: StackContainerView, emit: Emit): Promise<void> {
    const name = c.view.row.name;
    if (!c.view.config.healthcheck)
      throw new HyprError('COMPOSE_NO_HEALTHCHECK', `container ${name} has no healthcheck configured`);
    for (;;) {
      const v = this.containers.inspect(c.view.row.id);
      if (v.row.health === 'healthy') break;
      if (v.row.health === 'unhealthy')
        throw new HyprError('COMPOSE_DEPENDENCY_FAILED', `container ${name} is unhealthy`);
      if (!isRunning(v))
        throw new HyprError('COMPOSE_DEPENDENCY_FAILED', `container ${name} exited (${v.row.exitCode ?? 0})`);
      await sleep(HEALTH_POLL_MS);
    }
    emit({ kind: 'Container', name, status: 'Healthy', service: c.service });
  }

  /** `up --wait`: every container running (healthy when it has a health check) or exited 0. */
  async all(project: string, selected: Set<string>, timeoutMs: number, emit: Emit): Promise<void> {
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Number.POSITIVE_INFINITY;
    const pending = new Set(
      projectContainers(this.containers, project)
        .filter((c) => selected.has(c.service))
        .map((c) => c.view.row.id),
    );
    for (;;) {
      for (const id of [...pending]) if (this.settled(id, emit)) pending.delete(id);
      if (!pending.size) return;
      if (Date.now() > deadline) throw new HyprError('COMPOSE_WAIT_TIMEOUT', 'timed out waiting for the services');
      await sleep(HEALTH_POLL_MS);
    }
  }

  /** Whether a container is where `--wait` wants it; throws when it never will be. */
  private settled(id: string, emit: Emit): boolean {
    const v = this.containers.inspect(id);
    const name = v.row.name;
    if (v.row.state === 'exited') {
      if (v.row.exitCode !== 0)
        throw new HyprError('COMPOSE_WAIT_FAILED', `container ${name} exited (${v.row.exitCode})`, 'hypr compose logs');
      emit({ kind: 'Container', name, status: 'Exited' });
      return true;
    }
    if (v.row.health === 'unhealthy') throw new HyprError('COMPOSE_WAIT_FAILED', `container ${name} is unhealthy`);
    if (v.row.state !== 'running' || (v.config.healthcheck && v.row.health !== 'healthy')) return false;
    emit({ kind: 'Container', name, status: v.config.healthcheck ? 'Healthy' : 'Running' });
    return true;
  }
}
