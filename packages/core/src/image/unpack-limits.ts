import { bytesSize, parseSizeBytes } from '@hypr/api/units';
import { HyprError } from '../errors.js';

/**
 * How far layers may expand when unpacked. A gzip layer expands about 1000:1 at most and zstd far
 * more, so a 2 MB blob can fill a disk; real layers expand 2–10 times. Both limits can be raised
 * for images one trusts: by option, or by HYPR_UNPACK_MAX_RATIO / HYPR_UNPACK_MAX_BYTES.
 */
export interface UnpackLimits {
  /** Uncompressed bytes per compressed byte one layer may reach (checked past the first 64 MiB). */
  maxExpansionRatio: number;
  /** Uncompressed bytes all layers of one image may add up to. */
  maxImageBytes: number;
}

export const DEFAULT_UNPACK_LIMITS: Readonly<UnpackLimits> = { maxExpansionRatio: 250, maxImageBytes: 64 * 1024 ** 3 };

/** Below this many uncompressed bytes a layer is not judged by its ratio (small, very compressible files). */
export const RATIO_GRACE_BYTES = 64 << 20;

/** The limits in force: the options given, else the environment, else the defaults. */
export function resolveUnpackLimits(
  given: Partial<UnpackLimits> = {},
  env: NodeJS.ProcessEnv = process.env,
): UnpackLimits {
  const fromEnv = (name: string, parse: (s: string) => number | undefined): number | undefined => {
    const text = env[name];
    if (text === undefined || text === '') return undefined;
    const v = parse(text);
    if (v === undefined || !(v > 0))
      throw new HyprError(
        'CONFIG_INVALID',
        `${name}=${JSON.stringify(text)} is not a positive number`,
        'for example 500, or 100g for bytes',
      );
    return v;
  };
  return {
    maxExpansionRatio:
      given.maxExpansionRatio ??
      fromEnv('HYPR_UNPACK_MAX_RATIO', (s) => (/^\d+(\.\d+)?$/.test(s) ? Number(s) : undefined)) ??
      DEFAULT_UNPACK_LIMITS.maxExpansionRatio,
    maxImageBytes:
      given.maxImageBytes ?? fromEnv('HYPR_UNPACK_MAX_BYTES', parseSizeBytes) ?? DEFAULT_UNPACK_LIMITS.maxImageBytes,
  };
}

/** Counts a layer's bytes on both sides of the decompressor and stops it at a limit. */
export class ExpansionMeter {
  private compressed = 0;
  private uncompressed = 0;

  constructor(
    private readonly limits: UnpackLimits,
    /** What to name in errors: the layer's digest, or its index. */
    private readonly layer: string,
    /** Uncompressed bytes of the image's earlier layers. */
    private readonly imageBytesBefore = 0,
  ) {}

  get uncompressedBytes(): number {
    return this.uncompressed;
  }

  async *countCompressed(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const c of source) {
      this.compressed += c.length;
      yield c;
    }
  }

  async *countUncompressed(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const c of source) {
      this.uncompressed += c.length;
      this.check();
      yield c;
    }
  }

  private check(): void {
    const { maxExpansionRatio: ratio, maxImageBytes } = this.limits;
    if (this.uncompressed > RATIO_GRACE_BYTES && this.uncompressed > ratio * Math.max(1, this.compressed))
      throw new HyprError(
        'IMAGE_LAYER_TOO_LARGE',
        `layer ${this.layer} expands more than ${ratio} times: ${bytesSize(this.compressed)} compressed gave ${bytesSize(this.uncompressed)} so far`,
        'the layer looks like a decompression bomb; if you trust the image, raise HYPR_UNPACK_MAX_RATIO',
      );
    if (this.imageBytesBefore + this.uncompressed > maxImageBytes) throw imageTooLarge(maxImageBytes, this.layer);
  }
}

/** The image's layers together pass `maxImageBytes`, at layer `layer` (its digest or index). */
export function imageTooLarge(maxImageBytes: number, layer: string): HyprError {
  return new HyprError(
    'IMAGE_TOO_LARGE',
    `the image unpacks to more than ${bytesSize(maxImageBytes)} (the limit), reached in layer ${layer}`,
    'if you trust the image, raise HYPR_UNPACK_MAX_BYTES (for example 200g)',
  );
}
