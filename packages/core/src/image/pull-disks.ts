/**
 * The layer disks a pull makes (issue #19): in the pull process, each layer's read-only disk is made
 * from its bytes as they download (decompressed, unpacked and made into ext4 while the other layers
 * still download), so hyprd finds every disk made and never unpacks anything itself.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { HyprError } from '../errors.js';
import type { Logger } from '../log.js';
// The pull process's own imports, narrow on purpose (rootfs/index.js brings the state database).
import { rootfsDiskPath } from '../rootfs/disk-job.js';
import type { RootfsDisk } from '../rootfs/disk-job.js';
import {
  type LayerDiskSpec,
  MAX_LAYER_DISKS,
  findLayerDisk,
  layerDiskKey,
  makeLayerDisk,
} from '../rootfs/layer-disks.js';
import { FeedRestartedError, LayerFeed } from './layer-feed.js';
import type { ImageConfig, ImageDescriptor } from './manifest.js';
import type { LayerConsumer } from './pull.js';
import type { UnpackLimits } from './unpack-limits.js';

/** Where a pull puts its layer disks, and the unpack limits they obey (resolved by the caller). */
export interface PullDiskOptions {
  cacheDir: string;
  limits: UnpackLimits;
}

/** What became of one layer's disk: made, there already, or not made (hyprd tries again and reports why). */
type Outcome = { disk?: RootfsDisk; made: boolean; restarted?: boolean };

export class PullDisks {
  private readonly builds = new Map<string, Promise<Outcome>>();
  private readonly feeds: LayerFeed[] = [];
  private readonly aborter = new AbortController();

  constructor(
    private readonly storeRoot: string,
    private readonly opts: PullDiskOptions,
    private readonly log: Logger,
    signal?: AbortSignal,
  ) {
    signal?.addEventListener('abort', () => this.aborter.abort(signal.reason), { once: true });
  }

  /** PullImageOptions.onLayer: a feed into the making of the layer's disk, unless it is there or needs none. */
  readonly onLayer = (layer: ImageDescriptor, index: number, config: ImageConfig): LayerConsumer | undefined => {
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length > MAX_LAYER_DISKS || index < 0) return undefined; // the image gets a flattened disk
    const spec = this.spec(layer, diffIds[index]);
    if (this.builds.has(spec.key) || existsSync(this.pathOf(spec))) return undefined;
    const feed = new LayerFeed();
    this.feeds.push(feed);
    this.builds.set(spec.key, this.make(spec, feed));
    return feed;
  };

  /**
   * After the download: waits for the disks being made, makes those of layers that were stored
   * already (or whose download started over) from their blobs, and checks the image's total.
   */
  async finish(layers: readonly ImageDescriptor[], config: ImageConfig): Promise<void> {
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length > MAX_LAYER_DISKS) return;
    const outcomes = new Map<string, Outcome>();
    for (const [key, build] of this.builds) outcomes.set(key, await build);
    const disks: RootfsDisk[] = [];
    for (const [i, layer] of layers.entries()) {
      const spec = this.spec(layer, diffIds[i]);
      let outcome = outcomes.get(spec.key);
      if (!outcome || outcome.restarted) {
        outcome = await this.make(spec);
        outcomes.set(spec.key, outcome);
      }
      if (!outcome.disk) return; // hyprd makes what is missing, or says why it cannot
      disks.push(outcome.disk);
    }
    // Each disk holds a little more than its layer: within the cap, hyprd's own count passes too.
    const total = disks.reduce((n, d) => n + d.sizeBytes, 0);
    if (total > this.opts.limits.maxImageBytes) {
      this.log.debug({ total }, 'layer disks over the image cap; hyprd decides');
      for (const o of outcomes.values()) if (o.made && o.disk) await rm(o.disk.path, { force: true });
    }
  }

  /** Stops the disks being made and waits until their scratch files are gone. */
  async abort(reason: unknown): Promise<void> {
    this.aborter.abort(reason);
    for (const f of this.feeds) f.end(reason);
    await Promise.allSettled(this.builds.values());
  }

  private spec(layer: ImageDescriptor, diffId: string): LayerDiskSpec {
    return {
      storeRoot: this.storeRoot,
      dir: this.opts.cacheDir,
      key: layerDiskKey(diffId),
      digest: layer.digest,
      diffId,
      limits: this.opts.limits,
    };
  }

  private pathOf(spec: LayerDiskSpec): string {
    return rootfsDiskPath({ dir: spec.dir, key: spec.key, format: 'ext4' });
  }

  private async make(spec: LayerDiskSpec, feed?: LayerFeed): Promise<Outcome> {
    const log = this.log.child({ layer: spec.digest });
    if (!feed && existsSync(this.pathOf(spec))) return { made: false, disk: await this.existing(spec) };
    const started = Date.now();
    try {
      const disk = await makeLayerDisk(spec, { source: feed, signal: this.aborter.signal });
      log.debug({ totalMs: Date.now() - started, sizeBytes: disk.sizeBytes, streamed: !!feed }, 'layer disk made');
      return { disk, made: true };
    } catch (e) {
      if (e instanceof FeedRestartedError) return { made: false, restarted: true };
      if (!this.aborter.signal.aborted)
        log.warn({ err: (e as Error).message, code: (e as HyprError).code }, 'layer disk not made; hyprd will try');
      return { made: false };
    }
  }

  private existing(spec: LayerDiskSpec): Promise<RootfsDisk | undefined> {
    return findLayerDisk(this.pathOf(spec), spec.key);
  }
}
