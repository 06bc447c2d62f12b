export * from './cache.js';
export * from './ext4.js';
export * from './initramfs.js';
