// The system concern's public face: other folders import only this file.
export * from './disk-usage.js';
export * from './event-stream.js';
export * from './system-info.js';
export * from './system-service.js';
