/**
 * Guest platforms: which architecture a VM runs (`--platform linux/arm64`, as `docker run
 * --platform`), and where that architecture's guest (kernel and Kestrel) is. A guest of the host's
 * architecture is the one `resolveGuestDir` finds; another one comes from guest/out/<arch> in a
 * checkout or the `@hypr/guest-linux-<arch>` package, and runs emulated (QEMU TCG).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HyprError } from '../errors.js';
import { resolveGuestDir, verifyGuest } from '../paths.js';

/** A guest CPU architecture, named as Node and HYPR's guest packages name it. */
export type GuestArch = 'x64' | 'arm64';

export const GUEST_ARCHES: readonly GuestArch[] = ['x64', 'arm64'];

/** The host's architecture as a guest architecture, or undefined where HYPR has no guest for it. */
export function hostGuestArch(arch: string = process.arch): GuestArch | undefined {
  return arch === 'x64' || arch === 'arm64' ? arch : undefined;
}

/** The architecture of an OCI platform name: linux/amd64 → x64, linux/arm64[/v8] → arm64. */
export function guestArchOfPlatform(platform: string): GuestArch {
  const [os, arch = '', variant] = platform.includes('/') ? platform.split('/') : ['linux', platform];
  const known: Record<string, GuestArch> = {
    amd64: 'x64',
    x86_64: 'x64',
    x64: 'x64',
    arm64: 'arm64',
    aarch64: 'arm64',
  };
  const guest = known[arch];
  if (os !== 'linux' || !guest || (variant !== undefined && !(guest === 'arm64' && variant === 'v8')))
    throw new HyprError(
      'INVALID_ARGUMENT',
      `--platform ${JSON.stringify(platform)}: HYPR has guests for linux/amd64 and linux/arm64 only`,
      'give --platform linux/amd64 or --platform linux/arm64',
    );
  return guest;
}

/** The architecture's name inside the guest (`uname -m`). */
export function unameMachine(arch: GuestArch): string {
  return arch === 'x64' ? 'x86_64' : 'aarch64';
}

/**
 * The kernel and Kestrel for ARCH, in this order: guest/out/<arch> in a checkout; for the host's
 * architecture, what resolveGuestDir finds (HYPR_GUEST_DIR, guest/out, its package) and
 * HYPR_KERNEL / HYPR_KESTREL; else the installed `@hypr/guest-linux-<arch>` package, checked
 * against its manifest.
 */
export function guestArtifactsFor(
  arch: GuestArch,
  env: NodeJS.ProcessEnv = process.env,
): {
  kernel: string;
  kestrel: string;
} {
  // dist/vmm/platform.js or src/vmm/platform.ts → packages/core → repo root → guest/out/<arch>
  const checkout = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../guest/out', arch);
  const hasCheckout = existsSync(join(checkout, 'vmlinux')) && existsSync(join(checkout, 'kestrel'));
  if (arch === hostGuestArch() && !hasCheckout) {
    const dir = resolveGuestDir(env);
    return { kernel: env.HYPR_KERNEL ?? join(dir, 'vmlinux'), kestrel: env.HYPR_KESTREL ?? join(dir, 'kestrel') };
  }
  const dir = hasCheckout ? checkout : packagedGuestDir(arch, checkout);
  return { kernel: join(dir, 'vmlinux'), kestrel: join(dir, 'kestrel') };
}

function packagedGuestDir(arch: GuestArch, checkout: string): string {
  const pkg = `@hypr/guest-linux-${arch}`;
  let manifest: string;
  try {
    manifest = createRequire(import.meta.url).resolve(`${pkg}/manifest.json`);
  } catch (e) {
    throw new HyprError(
      'GUEST_PACKAGE_MISSING',
      `the HYPR guest for linux/${arch === 'x64' ? 'amd64' : arch} is not installed: no ${checkout} and no ${pkg}`,
      `in a checkout run \`bash scripts/build-kernel.sh ${arch}\` and \`bash scripts/build-kestrel.sh ${arch}\`; else \`npm i ${pkg}\``,
      { cause: e },
    );
  }
  verifyGuest(dirname(manifest), manifest, pkg);
  return dirname(manifest);
}
