/**
 * Where hypr-shim (the C per-container supervisor, shim/PROTOCOL.md) is, in this order:
 * $HYPR_SHIM_BINARY; the checkout's shim/out/hypr-shim (a development tree, built by
 * scripts/build-shim.sh); `hypr-shim` beside the guest package's manifest for this host
 * (`@hypr/guest-<platform>-<arch>`, which npm users install with @hypr/core).
 */
import { chmodSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HyprError } from '../errors.js';
import { guestPackageName, resolveGuestDir } from '../paths.js';
import { findExecutable } from '../process.js';

const BUILD_HINT = 'run scripts/build-shim.sh in a checkout, or reinstall the guest package';

const isExecutable = (path: string): boolean => findExecutable(path) !== undefined;

export function findShimBinary(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HYPR_SHIM_BINARY) {
    const path = resolve(env.HYPR_SHIM_BINARY);
    if (!isExecutable(path))
      throw new HyprError(
        'SHIM_MISSING',
        `HYPR_SHIM_BINARY=${env.HYPR_SHIM_BINARY} is not an executable file`,
        BUILD_HINT,
      );
    return path;
  }
  // src/vmm/shim-binary.ts or dist/vmm/shim-binary.js → packages/core → repo root → shim/out
  const here = dirname(fileURLToPath(import.meta.url));
  const checkout = resolve(here, '../../../../shim/out/hypr-shim');
  if (isExecutable(checkout)) return checkout;
  let guestDir: string;
  try {
    guestDir = resolveGuestDir(env);
  } catch (e) {
    throw new HyprError(
      'SHIM_MISSING',
      `hypr-shim is not built (${checkout}) and the guest package ${guestPackageName()} is not installed`,
      BUILD_HINT,
      { cause: e },
    );
  }
  const packaged = join(guestDir, 'hypr-shim');
  if (isExecutable(packaged)) return packaged;
  // The package declares it a bin, so npm and pnpm install it executable; another installer may not.
  if (existsSync(packaged)) {
    try {
      chmodSync(packaged, 0o755);
    } catch {
      /* not ours to change: the error below says what to do */
    }
    if (isExecutable(packaged)) return packaged;
  }
  throw new HyprError(
    'SHIM_MISSING',
    `hypr-shim is in neither ${checkout} nor ${packaged}`,
    `run scripts/build-shim.sh in a checkout, or reinstall it: \`npm i ${guestPackageName()}\``,
  );
}
