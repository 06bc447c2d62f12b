import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { HyprError, isErrorCode } from '../errors.js';
import { type Logger, silentLogger } from '../log.js';
import { spawnChild } from '../process.js';
import {
  type ImageRef,
  createCredentialResolver,
  dockerConfigPath,
  formatImageRef,
  parseImageRef,
} from '../registry/index.js';
import type { AddImageInput, ImageRecord, ImageStore } from './image-store.js';
import type { ImagePlatform } from './manifest.js';
import type { PullDiskOptions } from './pull-disks.js';
import { type PullImageOptions, type PullProgress, pullImage } from './pull.js';
import { type UnpackLimits, resolveUnpackLimits } from './unpack-limits.js';

/** What the pull process is asked to do: plain data, one JSON line on its stdin. */
export interface PullProcessJob {
  /** The image store's root: blobs go under it. */
  storeRoot: string;
  ref: string;
  platform?: ImagePlatform;
  insecureRegistries?: readonly string[];
  registryMirrors?: Readonly<Record<string, readonly string[]>>;
  authFile?: string;
  dockerConfigFile?: string;
  concurrency?: number;
  logLevel?: string;
  /** Set: make each layer's disk in the pull process as the layer arrives (hyprd then finds them made). */
  layerDisks?: PullDiskOptions;
}

/** What the pull process says, one JSON line each on its stdout. */
export type PullProcessMessage =
  | { type: 'progress'; progress: PullProgress }
  | { type: 'fetched'; image: AddImageInput }
  | { type: 'error'; code: string; message: string; hint?: string };

const ENTRY = new URL('./pull-process.js', import.meta.url);

/** The entry is compiled JavaScript beside this file: there in dist/, absent when running the .ts sources. */
export function pullProcessAvailable(): boolean {
  return existsSync(fileURLToPath(ENTRY));
}

export interface PullInProcessOptions extends Omit<PullImageOptions, 'credentials' | 'onLayer'> {
  /** HYPR's credential store (`hypr login`); the docker config is read after it. */
  authFile?: string;
  /**
   * Make the layers' read-only disks in the pull process as they arrive, into this cache directory
   * (getImageRootfs then finds them), under these unpack limits (unset ones: the environment, then
   * the defaults, resolved here).
   */
  layerDisks?: { cacheDir: string; limits?: Partial<UnpackLimits> };
}

/**
 * `pullImage` with the download in a process of its own: the caller's event loop only relays
 * progress, and the memory of streaming (sockets, hashing, buffers) is the pull process's, returned
 * to the system when it exits. The caller records the image (the database stays in one process).
 * Runs in this process when the entry is not there (running from sources).
 */
export async function pullImageInProcess(
  store: ImageStore,
  reference: string | ImageRef,
  opts: PullInProcessOptions = {},
): Promise<ImageRecord> {
  const ref = typeof reference === 'string' ? parseImageRef(reference) : reference;
  if (!pullProcessAvailable())
    return pullImage(store, ref, { ...opts, credentials: createCredentialResolver({ hyprAuthFile: opts.authFile }) });
  const fetched = await fetchImageInProcess(store.root, ref, opts);
  const record = store.addImage(fetched, ref.tag ? [ref] : []);
  (opts.logger ?? silentLogger).debug(
    { op: 'pull', ref: formatImageRef(ref), digest: record.digest, layers: record.layers.length, inProcess: true },
    'pulled',
  );
  return record;
}

/** The pull process's environment: PATH and HOME, and what decides which TLS certificates it trusts. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR'])
    if (process.env[k] !== undefined) env[k] = process.env[k];
  return env;
}

/** Runs the pull process for one image and returns what it fetched into `storeRoot`. */
export async function fetchImageInProcess(
  storeRoot: string,
  ref: ImageRef,
  opts: PullInProcessOptions,
): Promise<AddImageInput> {
  opts.signal?.throwIfAborted();
  const log = opts.logger ?? silentLogger;
  const job: PullProcessJob = {
    storeRoot,
    ref: formatImageRef(ref),
    platform: opts.platform,
    insecureRegistries: opts.insecureRegistries,
    registryMirrors: opts.registryMirrors,
    authFile: opts.authFile,
    dockerConfigFile: dockerConfigPath(),
    concurrency: opts.concurrency,
    logLevel: log.level,
    layerDisks: opts.layerDisks && {
      cacheDir: opts.layerDisks.cacheDir,
      limits: resolveUnpackLimits(opts.layerDisks.limits), // the child does not get this environment
    },
  };
  const child = spawnChild(process.execPath, [fileURLToPath(ENTRY)], {
    env: childEnv(),
    stdio: ['pipe', 'pipe', 'inherit'],
    signal: opts.signal,
    killAfterMs: 5_000,
    log,
  });
  try {
    child.process.stdin?.end(`${JSON.stringify(job)}\n`);
    let fetched: AddImageInput | undefined;
    let failure: HyprError | undefined;
    const lines = createInterface({ input: child.process.stdout! });
    for await (const line of lines) {
      let m: PullProcessMessage;
      try {
        m = JSON.parse(line) as PullProcessMessage;
      } catch {
        log.warn({ line: line.slice(0, 200) }, 'pull process wrote a line that is not a message');
        continue;
      }
      if (m.type === 'progress') opts.onProgress?.(m.progress);
      else if (m.type === 'fetched') fetched = m.image;
      else failure = new HyprError(isErrorCode(m.code) ? m.code : 'INTERNAL', m.message, m.hint);
    }
    const exit = await child.exited;
    if (opts.signal?.aborted) throw opts.signal.reason;
    if (failure) throw failure;
    if (!fetched || exit.code !== 0)
      throw new HyprError(
        'INTERNAL',
        `the pull process of ${job.ref} ended (${exit.signal ?? `exit code ${exit.code}`}) without a result`,
        "see hyprd's log for what it wrote before it ended",
      );
    return fetched;
  } finally {
    await child.stop();
  }
}
