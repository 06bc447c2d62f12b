// The networks concern's public face: other folders import only this file.
export * from './networks.js';
