// The volumes concern's public face: other folders import only this file.
export * from './mount-spec.js';
export * from './volumes.js';
