export * from './migrations/index.js';
export * from './open.js';
export * from './schema.js';
