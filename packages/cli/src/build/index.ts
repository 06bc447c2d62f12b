// `hypr build`'s parts: the context and Dockerfile, the flags, the progress view and the outputs.
export { type BuildSource, resolveBuildSource } from './context-source.js';
export { listContext, packContext, rechunk } from './context-tar.js';
export { type BuildOutput, openOutput, parseOutputFlag } from './output.js';
export { parseBuildArgs, parseLabels, readSecrets } from './options.js';
export { BuildProgress, type ProgressMode } from './progress.js';
