/**
 * daemon.json: the one schema and the one loader. Every part of hyprd reads its settings from the
 * DaemonConfig this returns (images: registries; containers: defaults; networks: bridge, bip, pools).
 * Keys of docker's daemon.json that do not apply (log-driver, storage-driver …) are ignored.
 */
import { readFileSync } from 'node:fs';
import { parseSizeBytes } from '@hypr/api/units';
import { ConfigKeyError, DEFAULT_MEMORY_MIB, type UnpackLimits } from '@hypr/core';
import { z } from 'zod';

const positive = z.number({ message: 'must be a positive number' }).positive('must be a positive number');
const strings = z.array(z.string(), { message: 'must be a list of strings' });
const cidr = /^\d+\.\d+\.\d+\.\d+\/\d+$/;

/** The schema of daemon.json: docker's key names, HYPR's defaults. */
export const daemonConfigSchema = z.object({
  'insecure-registries': strings.default([]),
  'registry-mirrors': strings.default([]),
  /**
   * Default vCPUs and memory of a container without --cpus / --memory. Memory: core's 2 GiB, as a
   * Docker user expects no wall (memory the guest does not use goes back to the host). vCPUs: one,
   * not the host's cores: under TCG on a loaded host, SMP guests panic in the kernel's IO-APIC
   * timer check ("IO-APIC + timer doesn't work!", 5 of 40 in the 20-container test).
   */
  'default-cpus': positive.default(1),
  'default-memory-mib': positive.default(DEFAULT_MEMORY_MIB),
  /** Seconds between the stop signal and SIGKILL when none is given. */
  'stop-timeout': positive.default(10),
  /** Step runner of RUN in builds: `"vm"` (a microVM per stage) or `"native"` (namespaces on the host, weaker). */
  builder: z.enum(['vm', 'native'], { message: 'must be "vm" or "native"' }).default('vm'),
  /**
   * Decompression-bomb limits of image unpacking: how many times its compressed size one layer may
   * expand (judged past its first 64 MiB), and the uncompressed total of one image (bytes, or a size
   * such as "64g"). Unset: HYPR_UNPACK_MAX_RATIO / HYPR_UNPACK_MAX_BYTES, else 250 and 64 GiB.
   */
  'unpack-max-ratio': positive.optional(),
  'unpack-max-bytes': z
    .union([z.number(), z.string()], { message: 'must be a size, for example 64g or 68719476736' })
    .transform((v, ctx) => {
      const bytes = parseSizeBytes(v);
      if (bytes === undefined || bytes <= 0) {
        ctx.addIssue({ code: 'custom', message: 'must be a size, for example 64g or 68719476736' });
        return z.NEVER;
      }
      return bytes;
    })
    .optional(),
  /** `"none"` disables the default network. */
  bridge: z.string({ message: 'must be a string' }).optional(),
  /** The default network's gateway and prefix, `10.200.0.1/24`. */
  bip: z
    .string({ message: 'must be ADDRESS/PREFIX, for example "10.200.0.1/24"' })
    .regex(cidr, 'must be ADDRESS/PREFIX, for example "10.200.0.1/24"')
    .optional(),
  /** Blocks user networks are cut from, `[{"base": "10.210.0.0/16", "size": 24}]`. */
  'default-address-pools': z
    .array(z.object({ base: z.string(), size: z.number().int() }), {
      message: 'must be a list of {"base": CIDR, "size": PREFIX}',
    })
    .optional(),
});

/** The keys of docker's daemon.json that hyprd honours, with HYPR's defaults filled in. */
export type DaemonConfig = z.infer<typeof daemonConfigSchema>;

/** The networking part of DaemonConfig, the slice NetworkManager takes. */
export type NetworkConfig = Pick<DaemonConfig, 'bridge' | 'bip' | 'default-address-pools'>;

export const DEFAULT_CONFIG: DaemonConfig = daemonConfigSchema.parse({});

/** The unpack limits daemon.json sets, for getRootfsDisk; unset ones come from the environment, then core. */
export function unpackLimitsOf(config: DaemonConfig): Partial<UnpackLimits> {
  return { maxExpansionRatio: config['unpack-max-ratio'], maxImageBytes: config['unpack-max-bytes'] };
}

/** `["default-address-pools", 0, "size"]` → `default-address-pools[0].size`. */
function keyPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '.';
}

/** Validates a parsed daemon.json document; errors name `file` and the key. */
export function parseDaemonConfig(doc: unknown, file?: string): DaemonConfig {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new ConfigKeyError('CONFIG_INVALID', 'must be a JSON object', file, '.');
  const result = daemonConfigSchema.safeParse(doc);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  // A wrong element inside a list is reported as the list's own message when it has one.
  const top = typeof issue.path[0] === 'string' ? issue.path[0] : undefined;
  const listMessage =
    top === 'default-address-pools'
      ? 'must be a list of {"base": CIDR, "size": PREFIX}'
      : top === 'insecure-registries' || top === 'registry-mirrors'
        ? 'must be a list of strings'
        : undefined;
  throw new ConfigKeyError(
    'CONFIG_INVALID',
    issue.path.length > 1 && listMessage ? listMessage : issue.message,
    file,
    keyPath(issue.path),
  );
}

/**
 * Reads the first of `files` that exists (`$HYPR_HOME/daemon.json`, then `/etc/hypr/daemon.json`)
 * and returns its config and which file it was; defaults when there is none.
 */
export function loadDaemonConfig(files: readonly string[]): { config: DaemonConfig; file?: string } {
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw new ConfigKeyError(
        'CONFIG_INVALID',
        code === 'EISDIR' ? 'is a directory, not a JSON file' : `cannot be read (${code ?? 'error'})`,
        file,
        '.',
        undefined,
        'daemon.json must be a readable JSON file',
      );
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new ConfigKeyError('CONFIG_INVALID', `not valid JSON: ${(e as Error).message}`, file, '.');
    }
    return { config: parseDaemonConfig(doc, file), file };
  }
  return { config: daemonConfigSchema.parse({}) };
}
