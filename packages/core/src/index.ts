// @hypr/core: everything that is not a long-running process. Each concern has its own subpath
// export (@hypr/core/dockerfile, /compose, /image, /vmm …); the root re-exports the public faces.
export * from './errors.js';
export * from './log.js';
export * from './paths.js';
export * from './process.js';
export * from './guest/index.js';
export * from './vmm/index.js';
export * from './registry/index.js';
export * from './image/index.js';
export * from './state/index.js';
export * from './rootfs/index.js';
export * from './compose/index.js';
export * from './dockerfile/index.js';
export * from './builder/index.js';
export * from './network/index.js';
