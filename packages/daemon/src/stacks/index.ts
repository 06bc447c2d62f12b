// The stacks concern's public face: other folders import only this file.
export * from './stacks.js';
