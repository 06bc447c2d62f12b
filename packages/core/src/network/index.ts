// @hypr/core/network: the primitives of HYPR's networking (no long-running state of its own beyond
// the servers the caller starts): IPAM, bridges and TAPs, nftables NAT, the port proxy, the DNS server.
export * from './cidr.js';
export * from './host-command.js';
export * from './host-routes.js';
export * from './ipam.js';
export * from './network-plan.js';
export * from './bridge.js';
export * from './tap.js';
export * from './nat.js';
export * from './port-spec.js';
export * from './port-proxy.js';
export * from './dns-wire.js';
export * from './dns-server.js';
export * from './endpoint.js';
