import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  HyprError,
  type ImageRecord,
  type ImageStore,
  type Logger,
  type PullProgress,
  type PushProgress,
  RegistryClient,
  createCredentialResolver,
  formatPlatform,
  getImageRootfs,
  layerDisksEnabled,
  loadImages,
  parseImageRef,
  parsePlatform,
  pruneRootfsCache,
  pullImageInProcess,
  pushImage,
  removeRegistryCredentials,
  saveImages,
  saveRegistryCredentials,
} from '@hypr/core';
import { type DaemonConfig, unpackLimitsOf } from '../config/index.js';
import { buildCacheLayers } from './build-cache.js';

/** The image side of hyprd: the store plus registry access configured from daemon.json. */
export class ImageManager {
  constructor(
    readonly store: ImageStore,
    private readonly config: DaemonConfig,
    private readonly dataDir: string,
    private readonly logger: Logger,
  ) {}

  get authFile(): string {
    return join(this.dataDir, 'auth.json');
  }

  /** Registry access as daemon.json configures it (mirrors, insecure registries, credentials). */
  access() {
    const mirrors = this.config['registry-mirrors'];
    return {
      insecureRegistries: this.config['insecure-registries'],
      registryMirrors: mirrors.length ? { 'docker.io': mirrors } : undefined,
      credentials: createCredentialResolver({ hyprAuthFile: this.authFile }),
      logger: this.logger,
    };
  }

  /**
   * `docker pull`. The download runs in a process of its own (hyprd's event loop only relays
   * progress, and the memory of streaming goes back to the system when it exits), which also makes
   * each layer's disk as the layer arrives; prepareDisk then finds them made (or makes what is
   * missing, the flattened disk with layer disks off, in a worker thread).
   */
  async pull(
    ref: string,
    opts: { platform?: string; onProgress?: (p: PullProgress) => void; signal?: AbortSignal } = {},
  ): Promise<ImageRecord> {
    const { credentials: _, ...access } = this.access();
    const image = await pullImageInProcess(this.store, parseImageRef(ref), {
      ...access,
      authFile: this.authFile,
      platform: opts.platform ? parsePlatform(opts.platform) : undefined,
      onProgress: opts.onProgress,
      signal: opts.signal,
      layerDisks: layerDisksEnabled()
        ? { cacheDir: join(this.store.root, 'rootfs'), limits: unpackLimitsOf(this.config) }
        : undefined,
    });
    await this.prepareDisk(image);
    return image;
  }

  /**
   * Makes the image's read-only disks (one per layer; HYPR_LAYER_DISKS=0: one flattened disk) now,
   * in a worker thread, so that its first `run` finds them ready instead of unpacking for seconds.
   * Called when an image is stored: pull, load, build. A failure is logged, not thrown: the image is
   * stored all the same, and `run` tries again and reports why it cannot.
   */
  async prepareDisk(image: ImageRecord): Promise<void> {
    try {
      await getImageRootfs(this.store, image, {
        worker: true,
        limits: unpackLimitsOf(this.config),
        logger: this.logger,
      });
    } catch (e) {
      this.logger.warn(
        { image: image.digest, err: (e as Error).message },
        'rootfs disk not made; the first run will try',
      );
    }
  }

  async push(
    ref: string,
    opts: { onProgress?: (p: PushProgress) => void; signal?: AbortSignal } = {},
  ): Promise<{ ref: string; digest: string }> {
    return pushImage(this.store, ref, undefined, {
      ...this.access(),
      onProgress: opts.onProgress,
      signal: opts.signal,
    });
  }

  /** Every image, or the one a reference names (none when it names nothing). */
  list(reference?: string): ImageRecord[] {
    if (!reference) return this.store.listImages();
    const found = this.store.findImage(reference);
    return found ? [found] : [];
  }

  async load(path: string): Promise<ImageRecord[]> {
    if (!path) throw new HyprError('INVALID_ARGUMENT', 'no archive path given');
    const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
      throw new HyprError(
        'INVALID_ARGUMENT',
        `open ${path}: ${e.code === 'ENOENT' ? 'no such file or directory' : (e.code ?? 'cannot read')}`,
        'give the path of a docker-save or OCI archive',
      );
    });
    if (!st.isFile()) throw new HyprError('INVALID_ARGUMENT', `${path} is not a file`, 'give the path of an archive');
    const loaded = await loadImages(this.store, path, { logger: this.logger });
    for (const image of loaded) await this.prepareDisk(image);
    return loaded;
  }

  async save(refs: readonly string[], path: string): Promise<void> {
    if (!refs.length) throw new HyprError('INVALID_ARGUMENT', 'no image given to save');
    for (const r of refs) this.store.resolveImage(r);
    const dir = dirname(path);
    if (!(await stat(dir).catch(() => undefined))?.isDirectory())
      throw new HyprError('INVALID_ARGUMENT', `cannot write ${path}: ${dir} is not a directory`, 'create it first');
    await saveImages(this.store, refs, path);
  }

  async login(registry: string, username: string, password: string): Promise<void> {
    const client = new RegistryClient(registry, {
      ...this.access(),
      credentials: async () => ({ username, password }),
      retries: 1,
    });
    let res: Response;
    try {
      res = await client.request('GET', '/v2/', { repository: 'hypr/login' });
    } catch (e) {
      if (/unauthori[sz]ed|denied|401|403/i.test((e as Error).message))
        throw new HyprError(
          'REGISTRY_AUTH_FAILED',
          `login to ${registry} failed: unauthorized: incorrect username or password`,
          undefined,
          { cause: e },
        );
      throw e;
    }
    await res.body?.cancel();
    if (res.status === 401 || res.status === 403)
      throw new HyprError('REGISTRY_AUTH_FAILED', `login to ${registry} failed: unauthorized (${res.status})`);
    if (!res.ok && res.status !== 404)
      throw new HyprError('REGISTRY_LOGIN_FAILED', `login to ${registry} failed: HTTP ${res.status}`);
    await saveRegistryCredentials(this.authFile, registry, { username, password });
  }

  async logout(registry: string): Promise<boolean> {
    return removeRegistryCredentials(this.authFile, registry);
  }

  /** Dangling images (no name; with `all`, every image no container uses), then unreferenced blobs. */
  async prune(all: boolean, inUse: ReadonlySet<string>): Promise<{ deleted: string[]; reclaimedBytes: number }> {
    const deleted: string[] = [];
    for (const img of this.store.listImages()) {
      if (inUse.has(img.digest)) continue;
      if (img.tags.length && !all) continue;
      this.store.removeImage(img.digest, { force: true });
      deleted.push(img.digest);
    }
    // Layers the build cache points at stay: the next build reuses them (`hypr builder prune` frees them).
    const keep = new Set([...this.store.referencedBlobs(), ...buildCacheLayers(this.store)]);
    const gc = await this.store.blobs.collectGarbage(keep);
    await pruneRootfsCache(this.store).catch(() => []);
    return { deleted, reclaimedBytes: gc.freedBytes };
  }

  static platformOf(img: ImageRecord): string {
    return formatPlatform(img.platform);
  }
}
