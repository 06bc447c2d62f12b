import { HyprError } from '../errors.js';

/**
 * The command files of Kestrel's build mode (guest/build.c, guest/PROTOCOL.md "Build mode"):
 * NUL-terminated `K=value` records, as the job. `K=RUN` with A (argv), E (env), W (workdir),
 * U (user), N=none (no network: a network namespace of its own), D/d/h (nameserver, search domain,
 * `address\tname` for the RUN's /etc/resolv.conf and /etc/hosts); `K=LAYER` (the changes since the
 * previous LAYER become NNN.tar, then a fresh layer starts); `K=FINALIZE` (all changes → layer.tar).
 */
export type BuildCommandRecord =
  | {
      kind: 'RUN';
      argv: readonly string[];
      env: readonly string[];
      workdir?: string;
      user?: string;
      noNetwork?: boolean;
      dns?: readonly string[];
      dnsSearch?: readonly string[];
      hosts?: readonly { name: string; address: string }[];
    }
  | { kind: 'LAYER' | 'FINALIZE' };

export function encodeCommandFile(c: BuildCommandRecord): Buffer {
  const records = [`K=${c.kind}`];
  if (c.kind === 'RUN') {
    for (const a of c.argv) records.push(`A=${a}`);
    for (const e of c.env) records.push(`E=${e}`);
    if (c.workdir) records.push(`W=${c.workdir}`);
    if (c.user) records.push(`U=${c.user}`);
    if (c.noNetwork) records.push('N=none');
    for (const d of c.dns ?? []) records.push(`D=${d}`);
    for (const d of c.dnsSearch ?? []) records.push(`d=${d}`);
    for (const h of c.hosts ?? []) records.push(`h=${h.address}\t${h.name}`);
  }
  for (const r of records)
    if (r.includes('\0')) throw new HyprError('GUEST_JOB_INVALID', 'build command contains a NUL byte');
  return Buffer.from(records.map((r) => `${r}\0`).join(''), 'utf8');
}
