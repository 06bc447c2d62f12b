// The stacks concern's public face: other folders import only this file.
export type { StackContainerOps, StackImageOps, StackNetworkOps, StackVolumeOps } from './deps.js';
export * from './labels.js';
export { invalidSpec, stackSpecFromProto } from './spec-proto.js';
export { selectServices, serviceConfigHash } from './services.js';
export { StackOrchestrator, type StackOrchestratorDeps } from './stack-orchestrator.js';
export type * from './types.js';
