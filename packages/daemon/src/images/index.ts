// The images concern's public face: other folders import only this file.
export * from './images.js';
export { throttleBlobProgress } from './blob-progress.js';
export {
  type BuildCacheEntryView,
  type BuildCacheUsage,
  type PruneBuildCacheOptions,
  buildCacheUsage,
  pruneBuildCache,
} from './build-cache.js';
export { type BuildOutcome, type BuildRequestOptions, ImageBuilder } from './image-build.js';
export { type ImageHistoryRow, imageHistory } from './history.js';
export { type ImportOptions, importImage } from './import.js';
