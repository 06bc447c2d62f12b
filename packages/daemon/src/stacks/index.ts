// The stacks concern's public face: other folders import only this file.
export type { StackContainerOps, StackImageOps, StackNetworkOps, StackVolumeOps } from './deps.js';
export * from './labels.js';
export { parseSpec } from './spec-json.js';
export { selectServices, serviceConfigHash } from './services.js';
export { StackOrchestrator, type StackOrchestratorDeps } from './stack-orchestrator.js';
export type * from './types.js';
