/**
 * Runs iproute2 and nftables commands, on the host or inside a network namespace (tests create
 * their own namespaces and pass `netns`). `ip` takes `-n NS`; other tools run under `ip netns exec`.
 */
import { type ErrorCode, HyprError } from '../errors.js';
import { ProcessError, runCommand } from '../process.js';

export interface NetnsOptions {
  /** Network namespace (a name under /var/run/netns) to act in; absent = the caller's own. */
  netns?: string;
  signal?: AbortSignal;
}

/** Runs `ip ARGS` (in `netns` when given) and returns stdout. */
export async function runIp(args: readonly string[], opts: NetnsOptions = {}): Promise<string> {
  const full = opts.netns ? ['-n', opts.netns, ...args] : [...args];
  const { stdout } = await runCommand('ip', full, { signal: opts.signal, packageHint: 'iproute2' });
  return stdout;
}

/**
 * Runs several `ip` commands in one process (`ip -batch -`): one fork of the caller instead of one
 * per command. `ip` stops at the first command that fails; the ProcessError it throws then says
 * which (batchLineOf). Arguments are words: the batch syntax would split or quote anything else.
 */
export async function runIpBatch(commands: readonly (readonly string[])[], opts: NetnsOptions = {}): Promise<void> {
  for (const args of commands)
    for (const a of args)
      if (!a || /[\s"'#\\]/.test(a))
        throw new HyprError('INVALID_ARGUMENT', `cannot pass ${JSON.stringify(a)} to ip -batch: not a single word`);
  const input = commands.map((args) => `${args.join(' ')}\n`).join('');
  const full = opts.netns ? ['-n', opts.netns, '-batch', '-'] : ['-batch', '-'];
  await runCommand('ip', full, { signal: opts.signal, input, packageHint: 'iproute2' });
}

/**
 * The command (1 = the first) of an `ip -batch` that failed, from `ip`'s "Command failed -:N";
 * undefined when `ip` gave up without saying (it exits on a bad argument without that line).
 */
export function batchLineOf(e: unknown): number | undefined {
  if (!(e instanceof ProcessError)) return undefined;
  const m = /Command failed -:(\d+)/.exec(e.stderrTail);
  return m ? Number(m[1]) : undefined;
}

/** Runs `ip -j ARGS` and parses its JSON output (an empty output is an empty list). */
export async function runIpJson<T>(args: readonly string[], opts: NetnsOptions = {}): Promise<T[]> {
  const out = (await runIp(['-j', ...args], opts)).trim();
  return out ? (JSON.parse(out) as T[]) : [];
}

/** Runs a binary inside `netns` (through `ip netns exec`) or directly. */
export async function runInNetns(
  binary: string,
  args: readonly string[],
  opts: NetnsOptions & { input?: string; packageHint?: string } = {},
): Promise<string> {
  const [bin, full] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, binary, ...args]] : [binary, [...args]];
  const { stdout } = await runCommand(bin, full, {
    signal: opts.signal,
    input: opts.input,
    packageHint: opts.packageHint,
  });
  return stdout;
}

/** True when the failure says the device (or object) does not exist: deletes treat that as done. */
export function isNotFound(e: unknown): boolean {
  if (!(e instanceof ProcessError)) return false;
  return /Cannot find device|does not exist|No such file or directory|No such device/i.test(
    `${e.message}\n${e.stderrTail}`,
  );
}

/** Wraps a failed device command in an error naming what HYPR was trying to do. */
export function deviceError(code: ErrorCode, what: string, e: unknown): HyprError {
  // `ip -batch` adds "Command failed -:N" after the reason: the reason is what the reader needs.
  const detail =
    e instanceof ProcessError
      ? e.stderrTail.replace(/^Command failed -:\d+$/gm, '').trim() || e.message
      : (e as Error).message;
  return new HyprError(
    code,
    `${what}: ${detail}`,
    /Operation not permitted/i.test(detail)
      ? 'bridges, TAP devices and nftables rules need root (or CAP_NET_ADMIN)'
      : undefined,
    { cause: e },
  );
}
