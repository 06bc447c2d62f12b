// The containers concern's public face: other folders import only this file.
export * from './config-resolution.js';
export * from './container-log.js';
export * from './container-mounts.js';
export * from './container-status.js';
export * from './health.js';
export * from './ids.js';
export * from './inspect.js';
export type { AttachEvent, WaitCondition } from './io.js';
export type { ExecRequest } from './exec.js';
export type { ContainerNetworkHooks } from './lifecycle.js';
export * from './orchestrator.js';
export * from './ps-filter.js';
export type { ReconcileResult } from './reconcile.js';
export { normalizeSignal } from './signals.js';
export { storedConfig } from './store.js';
export type * from './types.js';
export type * from './runtime/runtime.js';
export { selectRuntime } from './runtime/select.js';
