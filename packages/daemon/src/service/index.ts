// The service concern's public face: `hyprd --print-service systemd|launchd`.
export * from './service-target.js';
export * from './service-unit.js';
