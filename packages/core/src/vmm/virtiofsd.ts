/**
 * virtio-fs shares: one virtiofsd per shared directory, serving QEMU's vhost-user-fs device over a
 * Unix socket in the VM's work dir, ended with the VM. Used for volumes and bind mounts when the
 * host has virtiofsd and we run as root (it sandboxes itself with namespaces); otherwise shares
 * fall back to virtio-9p, which QEMU serves itself. HYPR_SHARE=9p forces the fallback.
 */
import { existsSync } from 'node:fs';
import { HyprError } from '../errors.js';
import type { Logger } from '../log.js';
import { type Child, spawnChild } from '../process.js';

const CANDIDATES = ['/usr/libexec/virtiofsd', '/usr/lib/qemu/virtiofsd', '/usr/lib/virtiofsd'];

/** The virtiofsd to use, or undefined when shares should use 9p. */
export function findVirtiofsd(
  env: NodeJS.ProcessEnv = process.env,
  isRoot = process.getuid?.() === 0,
): string | undefined {
  if (env.HYPR_SHARE === '9p') return undefined;
  if (env.HYPR_VIRTIOFSD) return env.HYPR_VIRTIOFSD;
  if (!isRoot) return undefined;
  return CANDIDATES.find((c) => existsSync(c));
}

/** virtiofsd's arguments: serve `source` on `socketPath`, sandboxed by chroot. */
export function virtiofsdArgs(socketPath: string, source: string): string[] {
  return [`--socket-path=${socketPath}`, '-o', `source=${source}`, '-o', 'cache=auto', '-o', 'sandbox=chroot'];
}

export async function startVirtiofsd(opts: {
  binary: string;
  socketPath: string;
  source: string;
  logger?: Logger;
  timeoutMs?: number;
}): Promise<Child> {
  const child = spawnChild(opts.binary, virtiofsdArgs(opts.socketPath, opts.source), {
    log: opts.logger,
    killAfterMs: 1000,
    packageHint: 'qemu-system-x86 (virtiofsd)',
  });
  let failed: unknown;
  child.exited.then(
    () => {
      failed ??= new Error('exited');
    },
    (e) => {
      failed = e;
    },
  );
  const deadline = Date.now() + (opts.timeoutMs ?? 5000);
  while (!existsSync(opts.socketPath)) {
    if (failed || Date.now() > deadline) {
      await child.stop();
      throw new HyprError(
        'VIRTIOFSD_FAILED',
        `virtiofsd for ${opts.source} did not start: ${child.stderrTail().trim() || String(failed ?? 'timed out')}`,
        'set HYPR_SHARE=9p to share directories over 9p instead',
      );
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return child;
}
