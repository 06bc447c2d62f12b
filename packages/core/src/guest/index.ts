export * from './job.js';
export * from './markers.js';
