/**
 * What hyprd needs from the host, checked when it starts and on every `hypr info`: the hypervisor
 * binary and its version, virtiofsd, mkfs.ext4, the guest (kernel + Kestrel) and KVM. A missing
 * required part stops hyprd at start with one error naming the package to install on this
 * distribution (read from /etc/os-release); a missing optional part is a warning. Nothing fails
 * later with an ENOENT.
 */
import { execFile } from 'node:child_process';
import { constants, accessSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import {
  HyprError,
  detectAccelerator,
  findVirtiofsd,
  guestArtifacts,
  guestPackageName,
  selectAdapter,
} from '@hypr/core';

/** One thing hyprd needs, as found on this host. */
export interface DependencyCheck {
  /** "hypervisor", "virtiofsd", "mkfs.ext4", "guest", "accelerator". */
  name: string;
  /** A missing required part stops hyprd; a missing optional one is a warning. */
  required: boolean;
  ok: boolean;
  /** What was found (path and version), or what is wrong. */
  detail: string;
  /** The command that installs what is missing on this host ("apt-get install qemu-system-x86"). */
  install?: string;
}

/** The distribution, from /etc/os-release, as far as installing packages goes. */
export type PackageManager = 'apt' | 'dnf' | 'zypper' | 'pacman' | 'apk' | 'brew' | 'unknown';

export interface HostDistro {
  manager: PackageManager;
  /** ID and VERSION_ID ("debian", "12"); "macos" on darwin. */
  id: string;
  version: string;
}

/** Everything the checks read from the host, replaceable in tests. */
export interface PreflightProbe {
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  arch: string;
  isRoot: boolean;
  /** The text of /etc/os-release ('' when absent). */
  osRelease(): string;
  isExecutable(path: string): boolean;
  /** The first line of `binary --version` (rejects when it cannot run). */
  version(binary: string): Promise<string>;
}

/** QEMU's microvm machine with acpi=off and modern virtio-mmio, as HYPR starts it. Tested with 7.2. */
export const MIN_QEMU_VERSION = [6, 0] as const;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export const hostProbe: PreflightProbe = {
  env: process.env,
  platform: process.platform,
  arch: process.arch,
  isRoot: process.getuid?.() === 0,
  osRelease: () => {
    try {
      return readFileSync('/etc/os-release', 'utf8');
    } catch {
      return '';
    }
  },
  isExecutable,
  version: (binary) =>
    new Promise((resolve, reject) => {
      execFile(binary, ['--version'], { timeout: 10_000 }, (e, stdout) =>
        e ? reject(e) : resolve(stdout.split('\n')[0].trim()),
      );
    }),
};

/** Reads ID, ID_LIKE and VERSION_ID of os-release and picks the package manager. */
export function detectDistro(osRelease: string, platform: NodeJS.Platform = process.platform): HostDistro {
  if (platform === 'darwin') return { manager: 'brew', id: 'macos', version: '' };
  const field = (key: string) =>
    new RegExp(`^${key}=("?)([^"\\n]*)\\1$`, 'm').exec(osRelease)?.[2]?.trim().toLowerCase() ?? '';
  const id = field('ID');
  const family = [id, ...field('ID_LIKE').split(/\s+/)];
  const is = (...names: string[]) => family.some((f) => names.includes(f));
  const manager: PackageManager = is('debian', 'ubuntu')
    ? 'apt'
    : is('fedora', 'rhel', 'centos')
      ? 'dnf'
      : is('suse', 'opensuse')
        ? 'zypper'
        : is('arch')
          ? 'pacman'
          : is('alpine')
            ? 'apk'
            : 'unknown';
  return { manager, id, version: field('VERSION_ID') };
}

type Part = 'qemu' | 'virtiofsd' | 'e2fsprogs' | 'vfkit' | 'cloud-hypervisor';

/** Debian 13 and Ubuntu 24.04 split virtiofsd (Rust) into its own package; before, qemu-system-common had it. */
function virtiofsdPackage(d: HostDistro): string {
  const major = Number.parseFloat(d.version);
  const split = d.id === 'ubuntu' ? major >= 24.04 : d.id === 'debian' ? !(major <= 12) : true;
  return split ? 'virtiofsd' : 'qemu-system-common';
}

/** The package of `part` on this distribution; undefined where HYPR does not know it. */
export function packageFor(part: Part, d: HostDistro, arch: string = process.arch): string | undefined {
  const qemuArch = arch === 'arm64' ? 'arm' : 'x86';
  const names: Record<PackageManager, Partial<Record<Part, string>>> = {
    apt: { qemu: `qemu-system-${qemuArch}`, virtiofsd: virtiofsdPackage(d), e2fsprogs: 'e2fsprogs' },
    dnf: {
      qemu: `qemu-system-${arch === 'arm64' ? 'aarch64' : 'x86'}-core`,
      virtiofsd: 'virtiofsd',
      e2fsprogs: 'e2fsprogs',
      'cloud-hypervisor': 'cloud-hypervisor',
    },
    zypper: { qemu: arch === 'arm64' ? 'qemu-arm' : 'qemu-x86', virtiofsd: 'virtiofsd', e2fsprogs: 'e2fsprogs' },
    pacman: {
      qemu: 'qemu-base',
      virtiofsd: 'virtiofsd',
      e2fsprogs: 'e2fsprogs',
      'cloud-hypervisor': 'cloud-hypervisor',
    },
    apk: {
      qemu: arch === 'arm64' ? 'qemu-system-aarch64' : 'qemu-system-x86_64',
      virtiofsd: 'virtiofsd',
      e2fsprogs: 'e2fsprogs',
      'cloud-hypervisor': 'cloud-hypervisor',
    },
    brew: { qemu: 'qemu', vfkit: 'vfkit', e2fsprogs: 'e2fsprogs' },
    unknown: {},
  };
  return names[d.manager][part];
}

/** "apt-get install qemu-system-x86" for this distribution, or a sentence when the distribution is unknown. */
export function installCommand(part: Part, d: HostDistro, arch: string = process.arch): string {
  const pkg = packageFor(part, d, arch);
  if (!pkg) return `install ${part} with your distribution's package manager`;
  switch (d.manager) {
    case 'apt':
      return `apt-get install ${pkg}`;
    case 'dnf':
      return `dnf install ${pkg}`;
    case 'zypper':
      return `zypper install ${pkg}`;
    case 'pacman':
      return `pacman -S ${pkg}`;
    case 'apk':
      return `apk add ${pkg}`;
    case 'brew':
      return `brew install ${pkg}`;
    default:
      return `install ${pkg}`;
  }
}

/** `binary` as the spawn of a child would find it: a path as is, a bare name on $PATH. */
export function findExecutable(
  binary: string,
  probe: Pick<PreflightProbe, 'env' | 'isExecutable'>,
): string | undefined {
  if (binary.includes('/')) return probe.isExecutable(binary) ? binary : undefined;
  for (const dir of (probe.env.PATH ?? '').split(delimiter)) {
    if (dir && probe.isExecutable(join(dir, binary))) return join(dir, binary);
  }
  return undefined;
}

/** [major, minor] of "QEMU emulator version 7.2.22 (Debian …)". */
export function parseQemuVersion(line: string): [number, number] | undefined {
  const m = /version (\d+)\.(\d+)/.exec(line);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

async function checkHypervisor(
  probe: PreflightProbe,
  distro: HostDistro,
  adapter: { name: string; binary: string },
): Promise<DependencyCheck> {
  const part: Part = adapter.name === 'qemu' ? 'qemu' : (adapter.name as Part);
  const install = installCommand(part, distro, probe.arch);
  const path = findExecutable(adapter.binary, probe);
  if (!path) {
    const where = adapter.binary.includes('/') ? adapter.binary : `${adapter.binary} on PATH`;
    return { name: 'hypervisor', required: true, ok: false, detail: `${adapter.name}: no ${where}`, install };
  }
  let line: string;
  try {
    line = await probe.version(path);
  } catch (e) {
    const why = (e as Error).message.split('\n')[0];
    return { name: 'hypervisor', required: true, ok: false, detail: `${path} --version failed: ${why}`, install };
  }
  if (adapter.name === 'qemu') {
    const v = parseQemuVersion(line);
    const [major, minor] = MIN_QEMU_VERSION;
    if (v && (v[0] < major || (v[0] === major && v[1] < minor)))
      return {
        name: 'hypervisor',
        required: true,
        ok: false,
        detail: `${path} is QEMU ${v.join('.')}: HYPR needs ${major}.${minor} or later (microvm machine)`,
        install,
      };
  }
  return { name: 'hypervisor', required: true, ok: true, detail: `${path} (${line || 'version unknown'})` };
}

function checkVirtiofsd(probe: PreflightProbe, distro: HostDistro, adapter: string): DependencyCheck {
  const base = { name: 'virtiofsd', required: false };
  if (probe.platform === 'darwin' || adapter === 'vfkit')
    return { ...base, ok: true, detail: 'not needed: vfkit shares directories itself' };
  if (probe.env.HYPR_SHARE === '9p') return { ...base, ok: true, detail: 'not used: HYPR_SHARE=9p' };
  if (!probe.isRoot) return { ...base, ok: true, detail: 'not used: volumes go over 9p when hyprd is not root' };
  const found = findVirtiofsd(probe.env, probe.isRoot);
  if (found && probe.isExecutable(found)) return { ...base, ok: true, detail: found };
  return {
    ...base,
    ok: false,
    detail: found
      ? `${found} (HYPR_VIRTIOFSD) is not executable: volumes and bind mounts fall back to 9p (slower)`
      : 'not found: volumes and bind mounts fall back to 9p (slower, no mmap)',
    install: installCommand('virtiofsd', distro, probe.arch),
  };
}

function checkMkfs(probe: PreflightProbe, distro: HostDistro): DependencyCheck {
  const base = { name: 'mkfs.ext4', required: true, install: installCommand('e2fsprogs', distro, probe.arch) };
  const path = findExecutable('mkfs.ext4', probe);
  if (path) return { name: base.name, required: true, ok: true, detail: path };
  // Debian keeps it in /sbin, which a non-root PATH often leaves out.
  const elsewhere = ['/usr/sbin', '/sbin', '/opt/homebrew/opt/e2fsprogs/sbin', '/usr/local/opt/e2fsprogs/sbin']
    .map((d) => join(d, 'mkfs.ext4'))
    .find((p) => probe.isExecutable(p));
  if (elsewhere)
    return {
      ...base,
      ok: false,
      detail: `${elsewhere} exists but is not on PATH (images become disks with it)`,
      install: `export PATH="$PATH:${elsewhere.slice(0, -'/mkfs.ext4'.length)}"`,
    };
  return { ...base, ok: false, detail: 'mkfs.ext4 not on PATH (images become disks with it)' };
}

function checkGuest(probe: PreflightProbe): DependencyCheck {
  try {
    const { kernel, kestrel } = guestArtifacts();
    return { name: 'guest', required: true, ok: true, detail: `${kernel}, ${kestrel}` };
  } catch (e) {
    const err = HyprError.from(e);
    return {
      name: 'guest',
      required: true,
      ok: false,
      detail: err.message,
      install: err.hint ?? `npm i ${guestPackageName(probe.platform, probe.arch)}`,
    };
  }
}

/** Every check, in the order hyprd reports them. */
export async function checkHost(probe: PreflightProbe = hostProbe): Promise<DependencyCheck[]> {
  const distro = detectDistro(probe.osRelease(), probe.platform);
  const accel = detectAccelerator(probe.env);
  let hypervisor: DependencyCheck;
  let adapter = '';
  try {
    const a = selectAdapter(accel.accel, probe.env, probe.platform, (b) => !!findExecutable(b, probe));
    adapter = a.name;
    hypervisor = await checkHypervisor(probe, distro, a);
  } catch (e) {
    hypervisor = { name: 'hypervisor', required: true, ok: false, detail: HyprError.from(e).message };
  }
  const accelerator: DependencyCheck = {
    name: 'accelerator',
    required: false,
    ok: accel.accel !== 'tcg',
    detail: `${accel.accel}: ${accel.reason}`,
  };
  return [hypervisor, checkVirtiofsd(probe, distro, adapter), checkMkfs(probe, distro), checkGuest(probe), accelerator];
}

/** One line per failed check: "hypervisor: qemu: no qemu-system-x86_64 on PATH (apt-get install qemu-system-x86)". */
export function describeCheck(c: DependencyCheck): string {
  return `${c.name}: ${c.detail}${c.install ? ` (${c.install})` : ''}`;
}

/** The warnings `hypr info` shows: every optional part that is missing. */
export function dependencyWarnings(checks: readonly DependencyCheck[]): string[] {
  return checks.filter((c) => !c.ok && !c.required).map(describeCheck);
}

/** hyprd's start-up error when a required part is missing; undefined when all are there. */
export function preflightError(checks: readonly DependencyCheck[]): HyprError | undefined {
  const missing = checks.filter((c) => !c.ok && c.required);
  if (missing.length === 0) return undefined;
  const installs = [...new Set(missing.map((c) => c.install).filter((i): i is string => !!i))];
  return new HyprError(
    'HOST_DEPENDENCY_MISSING',
    `cannot run VMs on this host: ${missing.map((c) => `${c.name}: ${c.detail}`).join('; ')}`,
    installs.length ? installs.join(' && ') : undefined,
  );
}
