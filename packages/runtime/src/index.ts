// @hypr/runtime: hypr-runtime, an OCI runtime that runs each container as a HYPR microVM.
// The library face: the bundle reader and the state JSON, for tools that inspect what it runs.
export { type BundleSpec, type ProcessSpec, loadBundle, parseBundleConfig, parseProcess } from './bundle.js';
export { type ContainerStatus, DEFAULT_ROOT, OCI_VERSION, type OciState, ociState, statusOf } from './state.js';
export { parseSignal, signalExitCode } from './signals.js';
export { main, VERSION } from './cli.js';
