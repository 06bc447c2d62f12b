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
import { detectAccelerator } from '../vmm/accel.js';
import { type RootfsSource, VmError, runVm } from '../vmm/guest-vm.js';

const USAGE = `Usage: hypr-vm (--rootfs DIR | --disk IMAGE | --image REF) [options] -- COMMAND [ARG...]

Boot a one-off HYPR microVM and run COMMAND in it.

Options:
  --rootfs DIR        root filesystem directory (shared read-only; writes go to a tmpfs overlay)
  --disk IMAGE        root filesystem disk image (ext4 or erofs, attached read-only)
  --image REF         OCI image (pulled into $HYPR_HOME if absent); without COMMAND runs its
                      Entrypoint/Cmd with its Env, WorkingDir and User
  --insecure-registry reach the image's registry over plain http (loopback registries always are)
  --platform OS/ARCH  image platform to pull (default: the host's)
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
  let rootfs: RootfsSource | undefined = values.rootfs
    ? { dir: values.rootfs }
    : values.disk
      ? { disk: values.disk }
      : undefined;
  if ([values.rootfs, values.disk, values.image].filter(Boolean).length !== 1) {
    process.stderr.write('hypr-vm: give exactly one of --rootfs DIR, --disk IMAGE or --image REF\n');
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
  let env = (values.env ?? []).map((e) => (e.includes('=') ? e : `${e}=${process.env[e] ?? ''}`));
  let command = positionals;
  let workdir = values.workdir;
  let user = values.user;
  if (values.image) {
    try {
      const prepared = await prepareImage(values.image, {
        insecure: values['insecure-registry'] ?? false,
        platform: values.platform,
      });
      const run = resolveImageRunSpec(prepared.config, { command: positionals, env, workdir, user });
      rootfs = { disk: prepared.disk, type: 'ext4' };
      ({ env, workdir, user } = run);
      command = run.argv;
    } catch (e) {
      process.stderr.write(`hypr-vm: ${HyprError.from(e).format()}\n`);
      return 125;
    }
  }
  if (!rootfs) return 125;
  const accel = detectAccelerator();
  if (accel.accel === 'tcg' && !process.env.HYPR_QUIET) process.stderr.write(`hypr-vm: notice: ${accel.reason}\n`);
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await runVm({
      rootfs,
      argv: command,
      env,
      workdir,
      user,
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
