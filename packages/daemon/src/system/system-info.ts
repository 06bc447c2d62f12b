import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname, release } from 'node:os';
import { detectAccelerator, guestArtifacts, runCommand, selectAdapter } from '@hypr/core';
import { type DependencyCheck, checkHost, dependencyWarnings } from './preflight.js';

export interface SystemFacts {
  adapter: string;
  accelerator: string;
  acceleratorReason: string;
  kernelPath: string;
  kestrelPath: string;
  kernelVersion: string;
  kestrelVersion: string;
  dataRoot: string;
  socket: string;
  containers: number;
  containersRunning: number;
  containersStopped: number;
  images: number;
  serverVersion: string;
  runtime: string;
  /** The hypervisor binary and the first line of its --version. */
  hypervisor: string;
  hypervisorVersion: string;
  /** What hyprd needs from the host, checked again on each `info` (preflight.ts). */
  dependencies: Required<DependencyCheck>[];
  /** One line per missing optional part (docker info's Warnings). */
  warnings: string[];
}

/** The Linux version string inside an uncompressed vmlinux ("6.1.0 …"). */
export async function kernelVersionOf(path: string): Promise<string> {
  const buf = await readFile(path).catch(() => undefined);
  if (!buf) return 'unknown';
  const i = buf.indexOf('Linux version ');
  if (i < 0) return 'unknown';
  return buf.subarray(i + 14, buf.indexOf(0x20, i + 14)).toString('latin1');
}

/** Kestrel has no version string of its own: name it by the hash of its binary. */
export async function kestrelVersionOf(path: string): Promise<string> {
  const buf = await readFile(path).catch(() => undefined);
  return buf ? `sha256:${createHash('sha256').update(buf).digest('hex').slice(0, 12)}` : 'unknown';
}

/** What `info` says about the host: its name, kernel and operating system. */
export interface HostFacts {
  name: string;
  kernelVersionHost: string;
  operatingSystem: string;
}

/** PRETTY_NAME of /etc/os-release ("Debian GNU/Linux 12 (bookworm)"), else the platform. */
export async function operatingSystem(): Promise<string> {
  const text = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
  return m?.[1] || process.platform;
}

export async function hostFacts(): Promise<HostFacts> {
  return { name: hostname(), kernelVersionHost: release(), operatingSystem: await operatingSystem() };
}

const versions = new Map<string, Promise<string>>();

/** The first line of `BINARY --version`, asked once per daemon; "unknown" when it will not say. */
export function hypervisorVersion(binary: string): Promise<string> {
  let v = versions.get(binary);
  if (!v) {
    v = runCommand(binary, ['--version'], { signal: AbortSignal.timeout(5_000) }).then(
      (r) => r.stdout.split('\n')[0].trim() || 'unknown',
      () => 'unknown',
    );
    versions.set(binary, v);
  }
  return v;
}

type GuestFacts = Pick<
  SystemFacts,
  | 'adapter'
  | 'accelerator'
  | 'acceleratorReason'
  | 'kernelPath'
  | 'kestrelPath'
  | 'kernelVersion'
  | 'kestrelVersion'
  | 'hypervisor'
  | 'hypervisorVersion'
  | 'dependencies'
  | 'warnings'
>;

export async function guestFacts(): Promise<GuestFacts> {
  const accel = detectAccelerator();
  let adapter = 'none';
  let binary = '';
  try {
    const a = selectAdapter(accel.accel);
    adapter = a.name;
    binary = a.binary;
  } catch {
    /* none usable */
  }
  let kernel = '';
  let kestrel = '';
  try {
    ({ kernel, kestrel } = guestArtifacts());
  } catch {
    /* reported as unknown */
  }
  const checks = await checkHost();
  return {
    adapter,
    accelerator: accel.accel,
    acceleratorReason: accel.reason,
    kernelPath: kernel,
    kestrelPath: kestrel,
    kernelVersion: kernel ? await kernelVersionOf(kernel) : 'missing',
    kestrelVersion: kestrel ? await kestrelVersionOf(kestrel) : 'missing',
    hypervisor: binary || 'none',
    hypervisorVersion: binary ? await hypervisorVersion(binary) : 'none',
    dependencies: checks.map((c) => ({ ...c, install: c.install ?? '' })),
    warnings: dependencyWarnings(checks),
  };
}
