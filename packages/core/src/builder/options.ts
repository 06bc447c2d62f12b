import type { DockerfileWarning } from '../dockerfile/index.js';
import type { ImageRecord, ImageStore } from '../image/image-store.js';
import type { RegistryAccessOptions } from '../image/pull.js';
import type { Logger } from '../log.js';
import type { BuildStepResult, RunBuildStepOptions } from './step-vm.js';

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
  /** Stages built at once. Default 2. */
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
  /** RUN steps that booted a VM. */
  vmRuns: number;
  warnings: DockerfileWarning[];
  durationMs: number;
}
