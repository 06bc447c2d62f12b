// The config concern's public face: other folders import only this file.
export * from './config.js';
