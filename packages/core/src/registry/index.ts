export * from './auth.js';
export * from './client.js';
export * from './media-types.js';
export * from './reference.js';
export * from './http-stream.js';
