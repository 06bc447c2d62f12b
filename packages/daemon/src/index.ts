// @hypr/daemon: hyprd. startDaemon runs it in-process (tests, embedding); bin/hyprd.js is the CLI.
export * from './config.js';
export * from './container-log.js';
export * from './container-status.js';
export * from './daemon.js';
export * from './errors.js';
export * from './orchestrator.js';
export type * from './runtime/runtime.js';
