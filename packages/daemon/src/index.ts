// @hypr/daemon: hyprd. startDaemon runs it in-process (tests, embedding); bin/hyprd.js is the CLI.
export * from './config/index.js';
export * from './containers/container-log.js';
export * from './containers/container-status.js';
export * from './daemon.js';
export * from './errors.js';
export * from './containers/orchestrator.js';
export type * from './containers/runtime/runtime.js';
