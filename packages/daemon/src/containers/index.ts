// The containers concern's public face: other folders import only this file.
export * from './container-log.js';
export * from './container-mounts.js';
export * from './container-status.js';
export * from './health.js';
export * from './ids.js';
export * from './inspect.js';
export * from './orchestrator.js';
export * from './ps-filter.js';
export type * from './runtime/runtime.js';
export { selectRuntime } from './runtime/select.js';
