/**
 * Network namespaces for networking tests: every device, rule and packet of those tests lives in
 * namespaces made here and deleted afterwards (deleting a namespace deletes its devices and its
 * nftables tables with it).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export function sh(binary: string, args: string[], opts: { input?: string } = {}): string {
  return execFileSync(binary, args, { encoding: 'utf8', input: opts.input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Runs a command inside a namespace. */
export function inNs(ns: string, binary: string, ...args: string[]): string {
  return sh('ip', ['netns', 'exec', ns, binary, ...args]);
}

/** Exit status of a command inside a namespace (0 = it worked), without throwing. */
export function statusInNs(ns: string, binary: string, ...args: string[]): number {
  try {
    inNs(ns, binary, ...args);
    return 0;
  } catch (e) {
    return (e as { status?: number }).status ?? 1;
  }
}

export class TestNamespaces {
  readonly names: string[] = [];
  private readonly id = randomBytes(3).toString('hex');

  /** Creates `hypr-test-<random>-<role>` with its loopback up. */
  add(role: string): string {
    const ns = `hypr-test-${this.id}-${role}`;
    sh('ip', ['netns', 'add', ns]);
    this.names.push(ns);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /**
   * Joins two namespaces with a veth pair: `aName` in `a`, `bName` in `b`, each with its address
   * (CIDR) when given, and both up. `aMaster` attaches the `a` end to a bridge instead of an address.
   */
  link(
    a: string,
    aName: string,
    b: string,
    bName: string,
    opts: { aAddress?: string; bAddress?: string; aMaster?: string; bGateway?: string } = {},
  ): void {
    sh('ip', ['-n', a, 'link', 'add', aName, 'type', 'veth', 'peer', 'name', bName, 'netns', b]);
    if (opts.aAddress) sh('ip', ['-n', a, 'addr', 'add', opts.aAddress, 'dev', aName]);
    if (opts.aMaster) sh('ip', ['-n', a, 'link', 'set', aName, 'master', opts.aMaster]);
    if (opts.bAddress) sh('ip', ['-n', b, 'addr', 'add', opts.bAddress, 'dev', bName]);
    sh('ip', ['-n', a, 'link', 'set', aName, 'up']);
    sh('ip', ['-n', b, 'link', 'set', bName, 'up']);
    if (opts.bGateway) sh('ip', ['-n', b, 'route', 'add', 'default', 'via', opts.bGateway]);
  }

  /** Deletes every namespace made here; never throws. */
  cleanup(): void {
    for (const ns of this.names.splice(0)) {
      try {
        sh('ip', ['netns', 'del', ns]);
      } catch {
        /* already gone */
      }
    }
  }
}
