import { existsSync } from 'node:fs';
import { copyFile, lstat, mkdir, mkdtemp, readFile, readdir, rm, rmdir, symlink, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { HyprError } from '../errors.js';
import { runCommand, spawnChild } from '../process.js';
import { createDirSourceTree, pathParts } from './source-tree.js';
import type { BuildStepCommand, BuildStepResult, RunBuildStepOptions } from './step-vm.js';
import { writeUpperLayer } from './upper-tar.js';

/**
 * `--builder native`: RUN steps on the host, no VM. Each command runs chrooted into an overlay of
 * the stage's tree (the tree itself is never written) inside fresh mount, pid, uts and ipc
 * namespaces, and a fresh network namespace unless the step has network (then it shares the
 * host's: weaker isolation than a VM, which is why it is opt-in). The overlay's upper dir becomes
 * the layer, written as Kestrel writes it (upper-tar.ts), so both runners give the same layers for
 * the same inputs. Needs root and util-linux's `unshare`.
 */

const OUTPUT_TAIL_BYTES = 4096;

/** What the namespace script mounts before the command: [kind, target, source or options]. */
type MountOp = [kind: 'proc' | 'sys' | 'bind' | 'bind-ro' | 'tmpfs', target: string, arg: string];

// Runs in the new namespaces as `sh -c SCRIPT sh MOUNT UNSHARE OPS… -- ROOT WORKDIR UID GID ARGV…`.
// Only builtins and absolute binaries: the environment (PATH included) is the command's.
const SCRIPT = `set -e
M=$1 U=$2
shift 2
while [ "$1" != -- ]; do
  case "$1" in
    proc) "$M" -t proc -o nosuid,nodev,noexec proc "$2" ;;
    sys) "$M" -t sysfs -o ro,nosuid,nodev,noexec sysfs "$2" ;;
    bind) "$M" --bind "$3" "$2" ;;
    bind-ro) "$M" --bind "$3" "$2"; "$M" -o remount,bind,ro "$2" ;;
    tmpfs) "$M" -t tmpfs -o "$3" tmpfs "$2" ;;
  esac
  shift 3
done
shift
R=$1 W=$2 UID_=$3 GID_=$4
shift 4
umask 022
exec "$U" --root="$R" --wd="$W" --setuid "$UID_" --setgid "$GID_" -- "$@"`;

const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];
const NAME_FILES = ['hosts', 'resolv.conf'];

/** A path inside the root, resolved as a chroot would (symlinks never lead out); made as directories when asked. */
async function insideRoot(root: string, path: string, makeDirs: boolean): Promise<string> {
  const tree = createDirSourceTree(root);
  const parts = pathParts(path);
  let resolved = '';
  for (const part of parts) {
    const next = resolved === '' ? part : `${resolved}/${part}`;
    const r = tree.resolve(next) ?? next;
    if (makeDirs && !existsSync(join(root, r))) await mkdir(join(root, r), { mode: 0o755 });
    resolved = r;
  }
  return join(root, resolved);
}

/** Kestrel's user lookup (guest/user.c): uid and gid from the root's passwd and group files, and HOME. */
async function resolveUser(
  root: string,
  user: string | undefined,
): Promise<{ uid: number; gid: number; home: string }> {
  const read = async (file: string) =>
    (await readFile(await insideRoot(root, file, false), 'utf8').catch(() => '')).split('\n').map((l) => l.split(':'));
  const e = { uid: 0, gid: 0, home: '/root' };
  if (!user) return e;
  const [name, group] = user.split(':', 2) as [string, string | undefined];
  const passwd = (await read('/etc/passwd')).filter((f) => f.length >= 3 && /^\d+$/.test(f[2]));
  const row = /^\d+$/.test(name)
    ? passwd.find((f) => Number(f[2]) === Number(name))
    : passwd.find((f) => f[0] === name);
  if (!row && !/^\d+$/.test(name))
    throw new HyprError('BUILD_STEP_FAILED', `unable to find user ${name}: no matching entries in passwd file`);
  e.uid = row ? Number(row[2]) : Number(name);
  if (row?.[3] !== undefined && row[3] !== '') e.gid = Number(row[3]);
  if (row?.[5] !== undefined) e.home = row[5];
  if (group) {
    const g = /^\d+$/.test(group)
      ? undefined
      : (await read('/etc/group')).find((f) => f[0] === group && /^\d+$/.test(f[2] ?? ''));
    if (!/^\d+$/.test(group) && !g)
      throw new HyprError('BUILD_STEP_FAILED', `unable to find group ${group}: no matching entries in group file`);
    e.gid = g ? Number(g[2]) : Number(group);
  }
  return e;
}

/** Finds a host binary on the daemon's PATH (the command's PATH is the image's). */
function hostBinary(name: string): string {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  throw new HyprError(
    'BUILD_NATIVE_UNAVAILABLE',
    `the native builder needs ${name}, which is not on PATH`,
    'install util-linux and mount',
  );
}

interface NativeWork {
  dir: string;
  root: string;
  dev: string;
  names: string;
}

/** The host side of /dev for every command: stub files the device nodes are bound onto. */
async function prepareWork(): Promise<NativeWork> {
  const dir = await mkdtemp(join(tmpdir(), 'hypr-native-'));
  const w = { dir, root: join(dir, 'root'), dev: join(dir, 'dev'), names: join(dir, 'names') };
  await mkdir(w.root);
  await mkdir(w.dev, { mode: 0o755 });
  for (const d of DEVICES) await writeFile(join(w.dev, d), '');
  for (const d of ['shm', 'pts']) await mkdir(join(w.dev, d));
  await symlink('/proc/self/fd', join(w.dev, 'fd'));
  for (const [i, n] of ['stdin', 'stdout', 'stderr'].entries()) await symlink(`/proc/self/fd/${i}`, join(w.dev, n));
  await mkdir(w.names);
  for (const f of NAME_FILES) {
    await copyFile(`/etc/${f}`, join(w.names, f)).catch(() => writeFile(join(w.names, f), ''));
  }
  return w;
}

/** Name files (the host's /etc/hosts and resolv.conf) over a real /etc; stubs made for them are undone by `cleanup`. */
async function nameFileMounts(root: string, w: NativeWork): Promise<{ ops: MountOp[]; stubs: string[] }> {
  const ops: MountOp[] = [];
  const stubs: string[] = [];
  const etc = await lstat(join(root, 'etc')).catch(() => undefined);
  if (!etc?.isDirectory()) return { ops, stubs };
  for (const f of NAME_FILES) {
    const target = join(root, 'etc', f);
    const st = await lstat(target).catch(() => undefined);
    if (st && !st.isFile()) continue;
    if (!st) {
      await writeFile(target, '', { flag: 'wx', mode: 0o644 });
      stubs.push(f);
    }
    ops.push(['bind', target, join(w.names, f)]);
  }
  return { ops, stubs };
}

/** After a command: the stubs leave the upper dir, and so does an /etc only they copied up. */
async function removeStubs(upper: string, stubs: string[], etcWasUp: boolean): Promise<void> {
  for (const f of stubs) await rm(join(upper, 'etc', f), { force: true });
  if (stubs.length > 0 && !etcWasUp) {
    const left = await readdir(join(upper, 'etc')).catch(() => undefined);
    if (left && left.length === 0) await rmdir(join(upper, 'etc'));
  }
}

/** The mounts of one command: /proc, /sys, /dev, the RUN's mounts and, with network, the name files. */
async function mountOps(root: string, w: NativeWork, opts: RunBuildStepOptions): Promise<MountOp[]> {
  const ops: MountOp[] = [];
  for (const m of opts.mounts ?? []) {
    const target = await insideRoot(root, m.target, true);
    if (m.type === 'tmpfs') ops.push(['tmpfs', target, m.options ?? 'mode=1777']);
    else ops.push([m.readOnly ? 'bind-ro' : 'bind', target, m.hostPath]);
  }
  ops.push(['proc', await insideRoot(root, '/proc', true), '-']);
  ops.push(['sys', await insideRoot(root, '/sys', true), '-']);
  const dev = await insideRoot(root, '/dev', true);
  ops.push(['bind', dev, w.dev]);
  for (const d of DEVICES) ops.push(['bind', join(dev, d), `/dev/${d}`]);
  ops.push(['tmpfs', join(dev, 'shm'), 'nosuid,nodev,mode=1777']);
  return ops;
}

/** Kestrel's additions to a command's environment (guest/user.c prepare_env). */
function commandEnv(c: BuildStepCommand, home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const e of c.env) {
    const i = e.indexOf('=');
    env[i < 0 ? e : e.slice(0, i)] = i < 0 ? '' : e.slice(i + 1);
  }
  env.PATH ??= '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  env.HOME ??= home;
  return env;
}

/** Runs one command in fresh namespaces, chrooted into `root`; returns its exit code. */
async function runInNamespaces(
  c: BuildStepCommand,
  root: string,
  w: NativeWork,
  opts: RunBuildStepOptions,
  extraOps: MountOp[],
  output: (stream: 'stdout' | 'stderr', b: Buffer) => void,
): Promise<number> {
  let user: Awaited<ReturnType<typeof resolveUser>>;
  try {
    user = await resolveUser(root, c.user);
  } catch (e) {
    output('stderr', Buffer.from(`hypr: ${(e as Error).message}\n`));
    return 125;
  }
  const workdir = c.workdir || '/';
  await insideRoot(root, workdir, true);
  const ops = [...(await mountOps(root, w, opts)), ...extraOps];
  const ns = ['--mount', '--uts', '--ipc', '--pid', '--fork', '--kill-child', '--propagation', 'private'];
  if (c.network === 'none') ns.push('--net');
  const unshare = hostBinary('unshare');
  const args = [...ns, '--', '/bin/sh', '-c', SCRIPT, 'sh', hostBinary('mount'), unshare, ...ops.flat(), '--'];
  args.push(root, workdir, String(user.uid), String(user.gid), ...c.argv);
  const child = spawnChild(unshare, args, { env: commandEnv(c, user.home), signal: opts.signal, killAfterMs: 2_000 });
  child.process.stdout?.on('data', (b: Buffer) => output('stdout', b));
  child.process.stderr?.on('data', (b: Buffer) => output('stderr', b));
  const timer = opts.timeoutMs ? setTimeout(() => void child.stop(), opts.timeoutMs) : undefined;
  try {
    const closed = new Promise<void>((r) => child.process.once('close', () => r()));
    const exit = await child.exited;
    await closed;
    if (exit.signal) return 128 + (constants.signals[exit.signal] ?? 9);
    return exit.code ?? 125;
  } finally {
    clearTimeout(timer);
  }
}

function overlayOptions(lowers: string[], upper: string, work: string): string {
  return `lowerdir=${lowers.join(':')},upperdir=${upper},workdir=${work},redirect_dir=off,index=off,metacopy=off`;
}

/** The native runner: the same contract as runBuildStep (a layer for all commands, or one each). */
export async function runNativeStep(opts: RunBuildStepOptions): Promise<BuildStepResult> {
  if (process.getuid?.() !== 0)
    throw new HyprError(
      'BUILD_NATIVE_UNAVAILABLE',
      'the native builder needs root',
      'run hyprd as root, or build with --builder vm',
    );
  if (opts.commands.length === 0) throw new HyprError('BUILD_STEP_EMPTY', 'a build step needs at least one command');
  const w = await prepareWork();
  const cleanup = () => rm(w.dir, { recursive: true, force: true });
  let tail = '';
  const output = (stream: 'stdout' | 'stderr', b: Buffer) => {
    tail = (tail + b.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
    (stream === 'stdout' ? opts.onStdout : opts.onStderr)?.(b);
  };
  const per = opts.layerPerCommand === true;
  const uppers: string[] = [];
  const results: BuildStepResult['results'] = [];
  const layers: string[] = [];
  try {
    for (const [k, c] of opts.commands.entries()) {
      if (per || k === 0) {
        uppers.push(join(w.dir, `upper${uppers.length}`));
        await mkdir(uppers.at(-1)!);
        await mkdir(join(w.dir, `work${uppers.length - 1}`));
      }
      const upper = uppers.at(-1)!;
      const lowers = [...uppers.slice(0, -1)].reverse().concat(opts.rootfsDir);
      const work = join(w.dir, `work${uppers.length - 1}`);
      await runCommand('mount', ['-t', 'overlay', 'overlay', '-o', overlayOptions(lowers, upper, work), w.root]);
      let code: number;
      let names = { ops: [] as MountOp[], stubs: [] as string[] };
      const etcWasUp = existsSync(join(upper, 'etc'));
      try {
        if (c.network !== 'none') names = await nameFileMounts(w.root, w);
        code = await runInNamespaces(c, w.root, w, opts, names.ops, output);
      } finally {
        await runCommand('umount', [w.root]);
      }
      await removeStubs(upper, names.stubs, etcWasUp);
      results.push({ index: k, exitCode: code });
      if (code !== 0) {
        const failed = { index: k, exitCode: code, outputTail: tail };
        return { results, failed, ...(per ? { layerTarPaths: layers } : {}), cleanup };
      }
      if (per) {
        layers.push(join(w.dir, `${k}.tar`));
        await writeUpperLayer(upper, layers.at(-1)!, w.dir);
        opts.onCommandDone?.(k);
      }
    }
    if (per) return { results, layerTarPaths: layers, cleanup };
    const layerTarPath = join(w.dir, 'layer.tar');
    await writeUpperLayer(uppers[0], layerTarPath, w.dir);
    return { results, layerTarPath, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
