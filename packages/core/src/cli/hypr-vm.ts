/**
 * hypr-vm: boot a one-off microVM and run one program in it, with no daemon (as firectl is to
 * Firecracker). Streams the program's stdout/stderr to its own and exits with its exit code.
 *
 *   hypr-vm --rootfs DIR [--memory MiB] [--cpus N] [-e K=V]… [-w DIR] [-u USER] -- CMD ARGS…
 *   hypr-vm --image REF [--insecure-registry] [--platform OS/ARCH] [options] [-- CMD ARGS…]
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { HyprError } from '../errors.js';
import { ImageStore } from '../image/image-store.js';
import { parsePlatform } from '../image/manifest.js';
import { pullImage } from '../image/pull.js';
import { resolveImageRunSpec } from '../image/run-config.js';
import { resolvePaths } from '../paths.js';
import { createCredentialResolver } from '../registry/auth.js';
import { parseImageRef } from '../registry/reference.js';
import { getRootfsDisk } from '../rootfs/cache.js';
import { openState } from '../state/open.js';
import { type AcceleratorChoice, detectAccelerator } from '../vmm/accel.js';
import { type RootfsSource, VmError, runVm } from '../vmm/guest-vm.js';
import { type GuestArch, guestArchOfPlatform, guestArtifactsFor, hostGuestArch } from '../vmm/platform.js';
import { chooseAdapter } from '../vmm/select.js';

const USAGE = `Usage: hypr-vm (--rootfs DIR | --disk IMAGE | --image REF) [options] -- COMMAND [ARG...]

Boot a one-off HYPR microVM and run COMMAND in it.

Options:
  --rootfs DIR        root filesystem directory (shared read-only; writes go to a tmpfs overlay)
  --disk IMAGE        root filesystem disk image (ext4 or erofs, attached read-only)
  --image REF         OCI image (pulled into $HYPR_HOME if absent); without COMMAND runs its
                      Entrypoint/Cmd with its Env, WorkingDir and User
  --insecure-registry reach the image's registry over plain http (loopback registries always are)
  --platform OS/ARCH  the guest's platform, linux/amd64 or linux/arm64 (default: the host's); with
                      --image also the image platform to pull. Another architecture than the
                      host's is emulated (QEMU TCG: slower)
  -m, --memory MiB    guest memory in MiB (default 2048; what the guest frees goes back to the host)
  --cpus N            virtual CPUs (default: the host's cores)
  -e, --env K=V       set an environment variable (repeatable)
  -w, --workdir DIR   working directory inside the guest
  -u, --user USER     user[:group] to run as
  --timeout SECONDS   kill the VM after this long (exit 124)
  -h, --help          show this help`;

/** The command line, checked: every bad value is a HyprError naming its flag and value. */
interface HyprVmArgs {
  help: boolean;
  /** The guest architecture --platform names; absent: the host's. */
  arch?: GuestArch;
  source: { rootfs: string } | { disk: string } | { image: string };
  insecureRegistry: boolean;
  platform?: string;
  memoryMiB?: number;
  cpus?: number;
  timeoutMs?: number;
  env: string[];
  workdir?: string;
  user?: string;
  command: string[];
}

function badFlag(flag: string, value: string, want: string): HyprError {
  return new HyprError('INVALID_ARGUMENT', `${flag} ${JSON.stringify(value)}: ${want}`, USAGE.split('\n')[0]);
}

function wholeNumber(flag: string, value: string | undefined, min: number, unit: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min)
    throw badFlag(flag, value, `give a whole number${unit}, at least ${min}`);
  return n;
}

export function parseHyprVmArgs(argv: string[]): HyprVmArgs {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    throw new HyprError('INVALID_ARGUMENT', (e as Error).message, USAGE.split('\n')[0]);
  }
  const { values, positionals } = parsed;
  const sources = [
    values.rootfs !== undefined ? { rootfs: values.rootfs } : undefined,
    values.disk !== undefined ? { disk: values.disk } : undefined,
    values.image !== undefined ? { image: values.image } : undefined,
  ].filter((s) => s !== undefined);
  if (!values.help && sources.length !== 1)
    throw new HyprError('INVALID_ARGUMENT', 'give exactly one of --rootfs DIR, --disk IMAGE or --image REF');
  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (values.timeout.trim() === '' || !Number.isFinite(seconds) || seconds <= 0)
      throw badFlag('--timeout', values.timeout, 'give a number of seconds greater than 0, for example 30 or 2.5');
    timeoutMs = Math.round(seconds * 1000);
  }
  return {
    help: !!values.help,
    arch: values.platform !== undefined ? guestArchOfPlatform(values.platform) : undefined,
    source: sources[0] ?? { rootfs: '' },
    insecureRegistry: values['insecure-registry'] ?? false,
    platform: values.platform,
    memoryMiB: wholeNumber('--memory', values.memory, 32, ' of MiB'),
    cpus: wholeNumber('--cpus', values.cpus, 1, ''),
    timeoutMs,
    env: (values.env ?? []).map((e) => (e.includes('=') ? e : `${e}=${process.env[e] ?? ''}`)),
    workdir: values.workdir,
    user: values.user,
    command: positionals,
  };
}

/** The root filesystem and the program: as given, or from the image's config. */
async function resolveRun(args: HyprVmArgs) {
  const { source } = args;
  if (!('image' in source)) {
    const rootfs: RootfsSource = 'rootfs' in source ? { dir: source.rootfs } : { disk: source.disk };
    return { rootfs, argv: args.command, env: args.env, workdir: args.workdir, user: args.user };
  }
  const prepared = await prepareImage(source.image, { insecure: args.insecureRegistry, platform: args.platform });
  const run = resolveImageRunSpec(prepared.config, {
    command: args.command,
    env: args.env,
    workdir: args.workdir,
    user: args.user,
  });
  return { rootfs: { disk: prepared.disk, type: 'ext4' as const }, ...run };
}

function report(e: unknown): void {
  const err = HyprError.from(e);
  process.stderr.write(`hypr-vm: ${err.format()}\n`);
  if (err instanceof VmError && err.consoleTail) process.stderr.write(`--- guest console ---\n${err.consoleTail}\n`);
}

export async function main(argv: string[]): Promise<number> {
  let args: HyprVmArgs;
  let run: Awaited<ReturnType<typeof resolveRun>>;
  try {
    args = parseHyprVmArgs(argv);
    if (args.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    run = await resolveRun(args);
  } catch (e) {
    report(e);
    return 125;
  }
  let guest: ReturnType<typeof guestFor>;
  try {
    guest = guestFor(args.arch);
  } catch (e) {
    report(e);
    return 125;
  }
  const { accel } = guest;
  if (accel.accel === 'tcg' && !process.env.HYPR_QUIET) process.stderr.write(`hypr-vm: notice: ${accel.reason}\n`);
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await runVm({
      ...run,
      memoryMiB: args.memoryMiB,
      cpus: args.cpus,
      accel,
      adapter: guest.adapter,
      ...guest.files,
      timeoutMs: args.timeoutMs,
      signal: ac.signal,
      collectOutput: false,
      onStdout: (b) => process.stdout.write(b),
      onStderr: (b) => process.stderr.write(b),
    });
    return result.exitCode;
  } catch (e) {
    report(e);
    return HyprError.from(e).code === 'VM_TIMEOUT' ? 124 : 125;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * The accelerator, the hypervisor and the guest's files for a guest of ARCH (default: the host's).
 * Another architecture than the host's is emulated: TCG, whatever the host offers.
 */
function guestFor(arch: GuestArch | undefined) {
  const host = hostGuestArch();
  const guest = arch ?? host ?? 'x64';
  const accel: AcceleratorChoice =
    guest !== host
      ? { accel: 'tcg', reason: `a linux/${guest} guest on a ${process.arch} host is emulated (TCG): slower` }
      : detectAccelerator();
  const { adapter } = chooseAdapter(accel.accel, process.env, process.platform, undefined, guest);
  const { kernel, kestrel } = guestArtifactsFor(guest);
  return { accel, adapter, files: { kernelPath: kernel, kestrelPath: kestrel } };
}

/** Finds (or pulls) the image in the store under HYPR_HOME and returns its cached disk and config. */
async function prepareImage(text: string, o: { insecure: boolean; platform?: string }) {
  const paths = resolvePaths();
  const state = openState(paths.db);
  try {
    const store = await ImageStore.open(paths.images, state);
    let image = store.findImage(text);
    if (!image) {
      const ref = parseImageRef(text);
      if (!process.env.HYPR_QUIET) process.stderr.write(`hypr-vm: pulling ${text}\n`);
      image = await pullImage(store, ref, {
        insecureRegistries: o.insecure ? [ref.registry] : [],
        platform: o.platform ? parsePlatform(o.platform) : undefined,
        credentials: createCredentialResolver({ hyprAuthFile: join(paths.data, 'auth.json') }),
      });
    }
    const disk = await getRootfsDisk(store, image);
    return { disk: disk.path, config: image.config };
  } finally {
    state.close();
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      rootfs: { type: 'string' },
      disk: { type: 'string' },
      image: { type: 'string' },
      'insecure-registry': { type: 'boolean' },
      platform: { type: 'string' },
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
