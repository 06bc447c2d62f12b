export * from './cache.js';
export * from './disk-job.js';
export * from './ext4.js';
export * from './initramfs.js';
export * from './image-rootfs.js';
export * from './layer-disks.js';
