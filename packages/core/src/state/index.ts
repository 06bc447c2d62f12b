export * from './migrate.js';
export * from './open.js';
export * from './schema.js';
