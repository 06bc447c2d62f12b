// The networks concern's public face: other folders import only this file.
export { type ContainerNetworkOptions, type ContainerRef, DEFAULT_NETWORK } from './attachments.js';
export { NetworkManager, type VmNetworkConfig, networkingAllowed } from './network-manager.js';
export { networkMatches } from './network-filter.js';
export type { BuildEndpoint } from './network-registry.js';
