import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import type { Dockerfile } from '../dockerfile/index.js';
import type { ImageRecord, ImageStore } from '../image/image-store.js';
import { LayerUnpacker } from '../image/unpack.js';
import type { Logger } from '../log.js';
import { resolveBuildSource } from './dag.js';
import { type BuildRuntimeConfig, type HistoryEntry, epochTimestamp } from './image-config.js';
import type { BuiltLayer } from './layers.js';
import { type SourceTree, createDirSourceTree } from './source-tree.js';

/**
 * What a stage has become so far: its config, layers and history, and (only once a step must
 * really run) a host directory holding those layers unpacked, whiteouts applied. That tree is the
 * root of the next RUN and the source of COPY --from; a fully cached build unpacks nothing.
 */
export interface StageState {
  index: number;
  label: string;
  config: BuildRuntimeConfig;
  cmdSet: boolean;
  layers: BuiltLayer[];
  history: HistoryEntry[];
  /** The unpacked tree, when made, and how many of `layers` it holds. */
  dir?: string;
  applied: number;
}

export function cloneConfig(c: BuildRuntimeConfig | undefined): BuildRuntimeConfig {
  return JSON.parse(JSON.stringify(c ?? {})) as BuildRuntimeConfig;
}

/** A stage that starts from another stage, from scratch, or from an image's config and layers. */
export function createStageState(
  index: number,
  label: string,
  from: { stage: StageState } | { scratch: true } | { image: ImageRecord },
): StageState {
  const base = { index, label, cmdSet: false, applied: 0 };
  if ('stage' in from) {
    const p = from.stage;
    return { ...base, config: cloneConfig(p.config), layers: [...p.layers], history: [...p.history] };
  }
  if ('scratch' in from) return { ...base, config: {}, layers: [], history: [] };
  const rec = from.image;
  const config = cloneConfig(rec.config.config as BuildRuntimeConfig);
  config.OnBuild = null;
  return {
    ...base,
    config,
    layers: rec.layers.map((l, i) => ({
      digest: l.digest,
      diffId: rec.config.rootfs.diff_ids[i],
      sizeBytes: l.size,
      mediaType: l.mediaType,
    })),
    history: [...(rec.config.history ?? [])],
  };
}

/**
 * Adds a layer a step produced (or reused) to the stage, with its history line. `applied`: the
 * layer is already in the stage's tree (the step wrote it there), so the tree stays in step.
 */
export function pushLayer(
  st: StageState,
  layer: BuiltLayer | null,
  createdBy: string,
  applied: boolean,
  epoch: number,
): void {
  if (layer) {
    const inSync = st.dir !== undefined && st.applied === st.layers.length;
    st.layers.push(layer);
    if (applied && inSync) st.applied = st.layers.length;
  }
  st.history.push({
    created: epochTimestamp(epoch),
    created_by: createdBy,
    comment: 'buildkit.dockerfile.v0',
    ...(layer ? {} : { empty_layer: true }),
  });
}

/** The host trees of a build: each stage's, made on demand, and each image read by --from. */
export class StageTrees {
  private readonly locks = new Map<StageState, Promise<unknown>>();
  private readonly imageTrees = new Map<string, Promise<string>>();

  constructor(
    private readonly o: {
      work: string;
      store: ImageStore;
      dockerfile: Dockerfile;
      images: Map<string, ImageRecord>;
      states: Map<number, StageState>;
      signal?: AbortSignal;
      logger?: Logger;
    },
  ) {}

  /** Brings a stage's tree up to date with its layers (unpacking only what it lacks); one at a time per stage. */
  materialize(st: StageState): Promise<string> {
    const next = (this.locks.get(st) ?? Promise.resolve()).catch(() => {}).then(() => this.materializeNow(st));
    this.locks.set(st, next);
    return next;
  }

  private async materializeNow(st: StageState): Promise<string> {
    const { signal, store } = this.o;
    if (!st.dir) {
      st.dir = await mkdtemp(join(this.o.work, `stage-${st.index}-`));
      st.applied = 0;
    }
    for (; st.applied < st.layers.length; st.applied++) {
      signal?.throwIfAborted();
      const l = st.layers[st.applied];
      await new LayerUnpacker(st.dir, { diffId: l.diffId, signal, logger: this.o.logger }).unpackLayer(
        store.blobs.openBlob(l.digest),
      );
    }
    return st.dir;
  }

  /** An image's filesystem, unpacked once per build. */
  imageTree(ref: string): Promise<string> {
    let p = this.imageTrees.get(ref);
    if (!p) {
      p = (async () => {
        const rec = this.o.images.get(ref)!;
        const dir = await mkdtemp(join(this.o.work, 'image-'));
        for (const [i, l] of rec.layers.entries()) {
          await new LayerUnpacker(dir, { diffId: rec.config.rootfs.diff_ids[i], signal: this.o.signal }).unpackLayer(
            this.o.store.blobs.openBlob(l.digest),
          );
        }
        return dir;
      })();
      this.imageTrees.set(ref, p);
    }
    return p;
  }

  /** Where `--from` / `from=` reads, as a tree. */
  async fromTree(from: string, current: number): Promise<SourceTree> {
    const ref = resolveBuildSource(this.o.dockerfile, from, current);
    if (ref.kind === 'stage') return createDirSourceTree(await this.materialize(this.o.states.get(ref.index)!));
    return createDirSourceTree(await this.imageTree(ref.ref));
  }
}
