// @hypr/daemon: hyprd. startDaemon runs it in-process (tests, embedding); bin/hyprd.js is the CLI.
export * from './config/index.js';
export * from './containers/index.js';
export * from './daemon.js';
export * from './errors.js';
