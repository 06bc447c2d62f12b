// The system concern's public face: other folders import only this file.
export * from './system-info.js';
