import type { DockerfileWarning } from '../dockerfile/index.js';
import type { ImageRecord, ImageStore } from '../image/image-store.js';
import type { RegistryAccessOptions } from '../image/pull.js';
import type { Logger } from '../log.js';
import type { BuildStepResult, BuildVmNetwork, RunBuildStepOptions } from './step-vm.js';

/** The options, progress events and result of `buildImage` (docs/build.md). */

export type BuildStepRunner = (opts: RunBuildStepOptions) => Promise<BuildStepResult>;

export type BuildProgressEvent =
  | {
      type: 'step';
      /** BuildKit's vertex number, from 1 in execution order. */
      id: number;
      /** `[stage-0 2/5] RUN make` */
      name: string;
      stage: number;
      step: number;
      status: 'running' | 'cached' | 'done' | 'error';
      durationMs?: number;
    }
  | { type: 'log'; id: number; stream: 'stdout' | 'stderr'; data: Buffer }
  | { type: 'pull'; ref: string; status: 'resolving' | 'pulled' | 'local' }
  | { type: 'warning'; warning: DockerfileWarning };

/**
 * A network attachment for one build VM, from the caller (hyprd: a lease and a TAP on its build
 * network). The names reach the RUN's /etc/resolv.conf and /etc/hosts, never a layer.
 */
export interface BuildRunNetwork extends BuildVmNetwork {
  dns: string[];
  /** Called once the VM has ended (also after a failure or an abort). */
  release(): Promise<void>;
}

export interface BuildImageOptions {
  /** The build context: a directory the caller may read (the daemon unpacks the streamed context here). */
  contextDir: string;
  /** The Dockerfile text; when absent it is read from `dockerfilePath`. */
  dockerfile?: string;
  /** Default `<contextDir>/Dockerfile`. Also picks `<dockerfilePath>.dockerignore` when it exists. */
  dockerfilePath?: string;
  /** .dockerignore text; when absent read from the context (or next to the Dockerfile). */
  dockerignore?: string;
  /** `-t`, several allowed. */
  tags?: readonly string[];
  buildArgs?: Readonly<Record<string, string>>;
  /** `--target`: a stage name. */
  target?: string;
  /** `--no-cache`: run every step (the cache is still written). */
  noCache?: boolean;
  /** `--pull`: pull base images even when they are in the store. */
  pull?: boolean;
  /** `--label`: added to the final image's labels. */
  labels?: Readonly<Record<string, string>>;
  /** `--secret id=…,src=…`: id → host file. Mounted for RUN --mount=type=secret, never stored. */
  secrets?: Readonly<Record<string, string>>;
  store: ImageStore;
  /** `--platform`: only the host's is supported. */
  platform?: string;
  /** Clamp for mtimes and the `created` time (SOURCE_DATE_EPOCH). Default 0. */
  sourceDateEpoch?: number;
  /** Independent stages built at once. Default the host's cores (os.availableParallelism()). */
  concurrency?: number;
  registry?: RegistryAccessOptions;
  /** Where stage trees and temporary layers go. Default the OS temp dir. */
  workDir?: string;
  /** Persistent dirs of RUN --mount=type=cache. Default `<store.root>/build-mounts`. */
  cacheMountsDir?: string;
  cpus?: number;
  memoryMiB?: number;
  stepTimeoutMs?: number;
  logger?: Logger;
  signal?: AbortSignal;
  onProgress?: (event: BuildProgressEvent) => void;
  /** Runs RUN steps; default runBuildStep (a microVM). Tests count or replace it. */
  runStep?: BuildStepRunner;
  /** The runStep given handles several commands with `layerPerCommand` (runBuildStep does). */
  groupRunSteps?: boolean;
  /**
   * `--builder`: `vm` (default) runs RUN steps in microVMs; `native` runs them on the host in fresh
   * namespaces chrooted into the stage (step-native.ts: root only, weaker isolation, no VM).
   */
  builder?: 'vm' | 'native';
  /** `--network`: `none` gives no RUN a network. Default `default` (through runNetwork, when given). */
  network?: 'default' | 'none';
  /**
   * Gives a build VM its network; called once per VM whose RUN steps are not all `--network=none`.
   * Absent: RUN has no network.
   */
  runNetwork?: (opts: { signal?: AbortSignal }) => Promise<BuildRunNetwork>;
  /** `--no-cache-filter`: stages (names or indexes) whose steps skip the cache lookup. */
  noCacheFilter?: readonly string[];
}

export interface BuildStepReport {
  name: string;
  stage: number;
  step: number;
  keyword: string;
  cached: boolean;
  /** Digest of the layer the step produced (undefined: no layer). */
  layer?: string;
  durationMs: number;
}

export interface BuildImageResult {
  /** Manifest digest (what `name@sha256:…` pins). */
  imageDigest: string;
  /** Config digest: docker's image ID, stable across identical builds. */
  imageId: string;
  image: ImageRecord;
  tags: string[];
  steps: BuildStepReport[];
  cachedSteps: number;
  /** RUN steps that ran (in VMs; on the host with the native builder). */
  vmRuns: number;
  /** Step runner calls: VMs booted (consecutive RUN steps of a stage share one). */
  vmBoots: number;
  warnings: DockerfileWarning[];
  durationMs: number;
}
