// The build graph and its cache keys (see docs/dockerfile.md). The executor lives beside them.
export {
  type BuildGraph,
  type BuildGraphStage,
  type BuildSourceRef,
  type CreateBuildGraphOptions,
  createBuildGraph,
  resolveBuildSource,
  stepSources,
} from './dag.js';
export {
  type BuildCacheKeys,
  CACHE_KEY_VERSION,
  type ComputeCacheKeysOptions,
  type ContextFile,
  type ReadBuildContextOptions,
  type StepCacheKey,
  cacheInstruction,
  canonicalJson,
  computeBuildCacheKeys,
  digestCacheInput,
  digestContextFiles,
  readBuildContext,
  selectContextFiles,
  stepEnvironment,
} from './cache-key.js';
export * from './step-vm.js';
export {
  type BuildImageOptions,
  type BuildImageResult,
  type BuildProgressEvent,
  type BuildRunNetwork,
  type BuildStepReport,
  type BuildStepRunner,
  buildImage,
} from './executor.js';
export { BuildStepError } from './step-error.js';
export { buildCacheBlobs, lookupBuildCache, pruneBuildCache, recordBuildCache } from './build-cache.js';
export { type BuiltLayer, normalizeLayerTar, storeLayerTar } from './layers.js';
export { createPlainProgressPrinter } from './progress.js';
