import { join } from 'node:path';
import type { ImageStore } from '../image/image-store.js';
import { type Logger, silentLogger } from '../log.js';
import type { BuildImageOptions, BuildProgressEvent, BuildStepReport, BuildStepRunner } from './options.js';
import type { ResolvedBuild } from './resolve.js';
import type { RunMountsContext } from './run-mounts.js';
import { type StageState, StageTrees } from './stage-state.js';
import { runNativeStep } from './step-native.js';
import { runBuildStep } from './step-vm.js';

/**
 * One build in progress: what resolveBuild found, the stages built so far, the step reports, and
 * the counters the result carries. The steps (run-stage.ts, step-run.ts, step-files.ts) read and
 * update it; nothing outside a build sees it.
 */
export class BuildSession {
  readonly store: ImageStore;
  readonly log: Logger;
  readonly epoch: number;
  readonly progress: (event: BuildProgressEvent) => void;
  readonly runStep: BuildStepRunner;
  readonly states = new Map<number, StageState>();
  readonly trees: StageTrees;
  readonly reports: BuildStepReport[] = [];
  readonly mountsContext: RunMountsContext;
  /** RUN steps that ran in a VM, and VMs booted for them. */
  vmRuns = 0;
  vmBoots = 0;
  /**
   * Whether consecutive RUN steps share a runner call: with the built-in runners, or a runner
   * that says it takes `layerPerCommand` (a test's).
   */
  readonly groupRuns: boolean;
  private vertex = 0;

  constructor(
    readonly opts: BuildImageOptions,
    readonly r: ResolvedBuild,
    /** A temporary directory of this build, removed at its end. */
    readonly work: string,
  ) {
    this.store = opts.store;
    this.log = (opts.logger ?? silentLogger).child({ op: 'build' });
    this.epoch = opts.sourceDateEpoch ?? 0;
    this.progress = opts.onProgress ?? (() => {});
    this.runStep = opts.runStep ?? (opts.builder === 'native' ? runNativeStep : runBuildStep);
    this.groupRuns = opts.runStep === undefined || opts.groupRunSteps === true;
    this.trees = new StageTrees({
      work,
      store: opts.store,
      dockerfile: r.dockerfile,
      images: r.images,
      states: this.states,
      signal: opts.signal,
      logger: opts.logger,
    });
    this.mountsContext = {
      fileName: r.fileName,
      cacheMountsDir: opts.cacheMountsDir ?? join(opts.store.root, 'build-mounts'),
      contextTree: r.contextTree,
      fromTree: (from, current) => this.trees.fromTree(from, current),
      secrets: opts.secrets,
    };
  }

  get signal(): AbortSignal | undefined {
    return this.opts.signal;
  }

  /** BuildKit's vertex number of the next step shown. */
  nextVertex(): number {
    return ++this.vertex;
  }

  /** `name`, or `stage-N` when the Dockerfile has several stages, or nothing for a single one. */
  stageLabel(index: number): string {
    const st = this.r.dockerfile.stages[index];
    if (st.name) return st.name;
    return this.r.dockerfile.stages.length === 1 ? '' : `stage-${index}`;
  }
}
