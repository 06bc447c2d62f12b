export * from './accel.js';
export * from './adapter.js';
export * from './cloud-hypervisor.js';
export * from './guest-vm.js';
export * from './qemu.js';
export * from './select.js';
export * from './spec.js';
export * from './vfkit.js';
