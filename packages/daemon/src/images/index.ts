// The images concern's public face: other folders import only this file.
export * from './images.js';
