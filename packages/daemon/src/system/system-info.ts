import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { detectAccelerator, guestArtifacts, selectAdapter } from '@hypr/core';

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

export async function guestFacts(): Promise<
  Pick<
    SystemFacts,
    'adapter' | 'accelerator' | 'acceleratorReason' | 'kernelPath' | 'kestrelPath' | 'kernelVersion' | 'kestrelVersion'
  >
> {
  const accel = detectAccelerator();
  let adapter = 'none';
  try {
    adapter = selectAdapter(accel.accel).name;
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
  return {
    adapter,
    accelerator: accel.accel,
    acceleratorReason: accel.reason,
    kernelPath: kernel,
    kestrelPath: kestrel,
    kernelVersion: kernel ? await kernelVersionOf(kernel) : 'missing',
    kestrelVersion: kestrel ? await kestrelVersionOf(kestrel) : 'missing',
  };
}
