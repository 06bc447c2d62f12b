import { readFileSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HyprError, type Logger, bootGuestVm, endShimProcesses, silentLogger } from '@hypr/core';
import { ContainerLogWriter } from '../container-log.js';
import { type ContainerRuntime, EXIT_FILE, LOG_FILE, type VmConfig, type VmExit, type VmHandle } from './runtime.js';

const PID_FILE = 'vm.pid';

/** Writes exit.json atomically (temp file, then rename). */
export async function writeExit(dir: string, exit: VmExit): Promise<void> {
  const tmp = join(dir, `.${EXIT_FILE}.tmp`);
  await writeFile(tmp, JSON.stringify(exit));
  await rename(tmp, join(dir, EXIT_FILE));
}

export function readExitFile(dir: string): VmExit | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, EXIT_FILE), 'utf8')) as VmExit;
  } catch {
    return undefined;
  }
}

/**
 * Boots the VM inside hyprd (core's bootGuestVm). VMs end with the daemon: on a restart after a
 * kill -9 the hypervisor left behind is ended, never adopted or left orphaned.
 */
export class InProcessRuntime implements ContainerRuntime {
  readonly name = 'in-process';
  readonly durable = false;

  constructor(private readonly logger: Logger = silentLogger) {}

  async start(dir: string, vm: VmConfig): Promise<VmHandle> {
    await rm(join(dir, EXIT_FILE), { force: true });
    const out = new ContainerLogWriter(join(dir, LOG_FILE));
    let guest: Awaited<ReturnType<typeof bootGuestVm>>;
    try {
      guest = await bootGuestVm({
        rootfs: vm.rootfs,
        argv: vm.argv,
        env: vm.env,
        workdir: vm.workdir,
        user: vm.user,
        hostname: vm.hostname,
        cpus: vm.cpus,
        memoryMiB: vm.memoryMiB,
        stopGraceMs: vm.stopGraceMs,
        mounts: vm.mounts,
        nics: vm.nics,
        dns: vm.dns,
        hosts: vm.hosts,
        collectOutput: false,
        onStdout: (b) => out.write('stdout', b),
        onStderr: (b) => out.write('stderr', b),
        logger: this.logger,
      });
    } catch (e) {
      await out.close();
      throw e;
    }
    // A guest that dies before its program runs (a kernel panic at boot) is a start that failed.
    if ((await guest.started()) === undefined) {
      const failure = await guest.wait().then(
        () => undefined,
        (e: unknown) => e,
      );
      if (failure) {
        await out.close();
        throw failure;
      }
    }
    if (guest.pid) await writeFile(join(dir, PID_FILE), String(guest.pid));
    const done: Promise<VmExit> = guest
      .wait()
      .then(
        (r): VmExit => ({
          exitCode: r.exitCode,
          ...(r.guestError ? { guestError: r.guestError } : {}),
          finishedAt: new Date().toISOString(),
        }),
        (e): VmExit => ({ exitCode: 255, error: HyprError.from(e).message, finishedAt: new Date().toISOString() }),
      )
      .then(async (exit) => {
        await out.close();
        await writeExit(dir, exit);
        await rm(join(dir, PID_FILE), { force: true });
        return exit;
      });
    return {
      pid: guest.pid,
      stop: (signal, graceMs) => {
        guest.stop(signal, graceMs).catch(() => {});
        return done;
      },
      kill: (signal) => guest.kill(signal),
      wait: () => done,
      close: () => {},
      pause: () => guest.pause(),
      resume: () => guest.resume(),
    };
  }

  async adopt(dir: string): Promise<VmHandle | undefined> {
    // A hypervisor left by a daemon that was killed: it has lost its channels, so end it.
    const pid = Number(await readFile(join(dir, PID_FILE), 'utf8').catch(() => ''));
    // Only a hypervisor: after a reboot the pid may belong to anything.
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (pid > 0 && /qemu-system|cloud-hypervisor|vfkit/.test(cmdline)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      await rm(join(dir, PID_FILE), { force: true });
    }
    return undefined;
  }

  readExit(dir: string): VmExit | undefined {
    return readExitFile(dir);
  }

  async release(dir: string, graceMs = 0): Promise<number[]> {
    // The hypervisor names the container's writable disk (in `dir`) on its command line.
    const r = await endShimProcesses(dir, { graceMs });
    if (r.remaining.length) this.logger.warn({ dir, pids: r.remaining }, 'container processes did not end');
    return r.killed;
  }
}
