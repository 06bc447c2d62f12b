import { type Logger, type ShimClient, connectShim, readShimExit, startShim } from '@hypr/core';
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
      client = await startShim({ dir, vm });
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
    const client = await connectShim(dir);
    return client ? toHandle(client) : undefined;
  }

  readExit(dir: string) {
    return readShimExit(dir);
  }
}
