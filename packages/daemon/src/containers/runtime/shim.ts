import { dirname } from 'node:path';
import {
  type Logger,
  type ShimClient,
  adoptShim,
  endShimProcesses,
  readShimExit,
  recordedShimProcesses,
  startShim,
} from '@hypr/core';
import type { ContainerRuntime, VmConfig, VmExit, VmHandle } from './runtime.js';

function toHandle(c: ShimClient): VmHandle {
  return {
    pid: c.state.vmPid ?? c.state.pid,
    stop: (signal, graceMs) => c.stop(signal, graceMs),
    kill: (signal) => {
      c.kill(signal).catch(() => {});
    },
    wait: () => c.wait(),
    close: () => c.close(),
    gone: () => c.closed(),
    endedByItself: () => c.endedByItself(),
    exec: (o) => c.exec(o),
    attach: (h) => c.attach(h),
    pause: () => c.pause(),
    resume: () => c.resume(),
    isPaused: () => c.isPaused(),
  };
}

function finished(exit: VmExit): VmHandle {
  return {
    pid: undefined,
    stop: async () => exit,
    kill: () => {},
    wait: async () => exit,
    close: () => {},
  };
}

/** VMs run under core's detached per-container shim, so they outlive a kill -9 of hyprd. */
export class ShimRuntime implements ContainerRuntime {
  readonly name = 'shim';
  readonly durable = true;

  constructor(private readonly logger: Logger) {}

  async start(dir: string, vm: VmConfig): Promise<VmHandle> {
    let client: ShimClient;
    try {
      // Containers' directories are siblings: a spare writable disk waits beside them. A spare
      // shim process waits too: the next start does not fork hyprd.
      client = await startShim({ dir, vm, spareDir: dirname(dir), spareShim: true });
    } catch (e) {
      // A program that ends before the first connection (a fast `true`) is an exit, not a failure.
      const exit = readShimExit(dir);
      if (!exit || exit.error) throw e;
      this.logger.debug({ dir, exit }, 'vm ended before the shim was reached');
      return finished(exit);
    }
    this.logger.debug({ dir, shimPid: client.state.pid }, 'shim started');
    return toHandle(client);
  }

  async adopt(dir: string): Promise<VmHandle | undefined> {
    const client = await adoptShim(dir);
    return client ? toHandle(client) : undefined;
  }

  readExit(dir: string) {
    return readShimExit(dir);
  }

  async release(dir: string, graceMs = 0): Promise<number[]> {
    const r = await endShimProcesses(dir, { recorded: recordedShimProcesses(dir), graceMs });
    if (r.killed.length) this.logger.info({ dir, killed: r.killed }, 'ended the processes left for a container');
    if (r.remaining.length) this.logger.warn({ dir, pids: r.remaining }, 'container processes did not end');
    return r.killed;
  }
}
