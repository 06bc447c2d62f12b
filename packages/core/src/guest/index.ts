export * from './job.js';
export * from './markers.js';
export * from './exec-frames.js';
