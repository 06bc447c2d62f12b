/**
 * hypr-vm: boot a one-off microVM and run one program in it, with no daemon (as firectl is to
 * Firecracker). Streams the program's stdout/stderr to its own and exits with its exit code.
 *
 *   hypr-vm --rootfs DIR [--memory MiB] [--cpus N] [-e K=V]… [-w DIR] [-u USER] -- CMD ARGS…
 */
import { parseArgs } from 'node:util';
import { HyprError } from '../errors.js';
import { detectAccelerator } from '../vmm/accel.js';
import { type RootfsSource, runVm, VmError } from '../vmm/guest-vm.js';

const USAGE = `Usage: hypr-vm (--rootfs DIR | --disk IMAGE) [options] -- COMMAND [ARG...]

Boot a one-off HYPR microVM and run COMMAND in it.

Options:
  --rootfs DIR        root filesystem directory (shared read-only; writes go to a tmpfs overlay)
  --disk IMAGE        root filesystem disk image (ext4 or erofs, attached read-only)
  -m, --memory MiB    guest memory in MiB (default 256)
  --cpus N            virtual CPUs (default 1)
  -e, --env K=V       set an environment variable (repeatable)
  -w, --workdir DIR   working directory inside the guest
  -u, --user USER     user[:group] to run as
  --timeout SECONDS   kill the VM after this long (exit 124)
  -h, --help          show this help`;

export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    process.stderr.write(`hypr-vm: ${(e as Error).message}\n${USAGE.split('\n')[0]}\n`);
    return 125;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const rootfs: RootfsSource | undefined = values.rootfs ? { dir: values.rootfs } : values.disk ? { disk: values.disk } : undefined;
  if (!rootfs || (values.rootfs && values.disk)) {
    process.stderr.write('hypr-vm: give exactly one of --rootfs DIR or --disk IMAGE\n');
    return 125;
  }
  const memoryMiB = values.memory ? Number(values.memory) : undefined;
  const cpus = values.cpus ? Number(values.cpus) : undefined;
  if (memoryMiB !== undefined && !(Number.isInteger(memoryMiB) && memoryMiB >= 32)) {
    process.stderr.write(`hypr-vm: --memory ${values.memory}: give a whole number of MiB, at least 32\n`);
    return 125;
  }
  if (cpus !== undefined && !(Number.isInteger(cpus) && cpus >= 1)) {
    process.stderr.write(`hypr-vm: --cpus ${values.cpus}: give a whole number, at least 1\n`);
    return 125;
  }
  const env = (values.env ?? []).map((e) => (e.includes('=') ? e : `${e}=${process.env[e] ?? ''}`));
  const accel = detectAccelerator();
  if (accel.accel === 'tcg' && !process.env.HYPR_QUIET) process.stderr.write(`hypr-vm: notice: ${accel.reason}\n`);
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await runVm({
      rootfs,
      argv: positionals,
      env,
      workdir: values.workdir,
      user: values.user,
      memoryMiB,
      cpus,
      accel,
      timeoutMs: values.timeout ? Number(values.timeout) * 1000 : undefined,
      signal: ac.signal,
      collectOutput: false,
      onStdout: (b) => process.stdout.write(b),
      onStderr: (b) => process.stderr.write(b),
    });
    return result.exitCode;
  } catch (e) {
    const err = HyprError.from(e);
    process.stderr.write(`hypr-vm: ${err.format()}\n`);
    if (err instanceof VmError && err.consoleTail) process.stderr.write(`--- guest console ---\n${err.consoleTail}\n`);
    return err.code === 'VM_TIMEOUT' ? 124 : 125;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      rootfs: { type: 'string' },
      disk: { type: 'string' },
      memory: { type: 'string', short: 'm' },
      cpus: { type: 'string' },
      env: { type: 'string', short: 'e', multiple: true },
      workdir: { type: 'string', short: 'w' },
      user: { type: 'string', short: 'u' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
