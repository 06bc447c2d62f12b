/**
 * TAP devices, one per VM NIC, attached to their network's bridge. They are persistent (`ip tuntap
 * add`), so the hypervisor opens them by name and they outlive a hypervisor crash until HYPR
 * deletes them; names are derived from container and network, so a restarted daemon finds them.
 */
import { createHash } from 'node:crypto';
import { HyprError } from '../errors.js';
import { ProcessError } from '../process.js';
import { readLink } from './bridge.js';
import { type NetnsOptions, batchLineOf, deviceError, isNotFound, runIp, runIpBatch } from './host-command.js';

/** `hyprt` + 10 hex characters (15, the kernel's limit), stable for a container's NIC on a network. */
export function tapNameFor(containerId: string, networkId: string): string {
  return `hyprt${createHash('sha256').update(`${containerId}\0${networkId}`).digest('hex').slice(0, 10)}`;
}

export interface CreateTapOptions extends NetnsOptions {
  name: string;
  bridge: string;
  mtu?: number;
}

/**
 * Creates the TAP (or adopts it), attaches it to the bridge and brings it up, in one `ip` process
 * when the name is free (the usual case: each start of a container). Deletes it again on failure.
 */
export async function createTap(opts: CreateTapOptions): Promise<void> {
  const { name, bridge } = opts;
  if (name.length > 15) throw new HyprError('NETWORK_TAP_INVALID', `TAP name ${name} is longer than 15 characters`);
  const attach = ['link', 'set', 'dev', name, ...(opts.mtu ? ['mtu', String(opts.mtu)] : []), 'master', bridge, 'up'];
  const failed = async (e: unknown): Promise<never> => {
    // Not under `signal`: an aborted start must still take its TAP away.
    await deleteTap(name, { netns: opts.netns }).catch(() => {});
    throw deviceError('NETWORK_TAP_FAILED', `cannot set up TAP ${name} on bridge ${bridge}`, e);
  };
  try {
    await runIpBatch([['tuntap', 'add', 'dev', name, 'mode', 'tap'], attach], opts);
    return;
  } catch (e) {
    if (e instanceof HyprError && e.code === 'INVALID_ARGUMENT') throw e; // refused before `ip` ran
    // Past the first command the TAP exists (or `ip` stopped without saying where): it goes again.
    if (batchLineOf(e) !== 1) return failed(e);
    // `tuntap add` wants a new device: any of that name refuses it, so only now look at what is
    // there. A TAP is one HYPR made before (a restarted daemon adopts its running VMs' TAPs).
    const existing = await readLink(name, opts).catch(() => undefined);
    if (!existing) throw deviceError('NETWORK_TAP_FAILED', `cannot set up TAP ${name} on bridge ${bridge}`, e);
    if (existing.linkinfo?.info_data?.type !== 'tap')
      throw new HyprError('NETWORK_DEVICE_CONFLICT', `a device named ${name} exists and is not a TAP`);
  }
  try {
    await runIp(attach, opts);
  } catch (e) {
    await failed(e);
  }
}

/** Deletes the TAP; no error when it is already gone. */
export async function deleteTap(name: string, opts: NetnsOptions = {}): Promise<void> {
  try {
    await runIp(['tuntap', 'del', 'dev', name, 'mode', 'tap'], opts);
  } catch (e) {
    if (isNotFound(e)) return;
    // `tuntap del` of a missing device exits 1 with a message that varies across iproute2 versions.
    // "busy" says it is there, held by a hypervisor (the daemon retries those): no need to look.
    const busy = e instanceof ProcessError && /busy/i.test(e.stderrTail);
    if (!busy && !(await readLink(name, opts))) return;
    throw deviceError('NETWORK_TAP_FAILED', `cannot delete TAP ${name}`, e);
  }
}
