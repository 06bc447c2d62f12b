import type { Logger } from '@hypr/core';
import { InProcessRuntime } from './in-process.js';
import type { ContainerRuntime } from './runtime.js';
import { ShimRuntime } from './shim.js';

/**
 * The shim runtime (VMs survive hyprd) unless HYPR_RUNTIME=in-process asks for VMs inside hyprd
 * (they then end with it).
 */
export function selectRuntime(log: Logger): ContainerRuntime {
  if (process.env.HYPR_RUNTIME === 'in-process') return new InProcessRuntime(log);
  return new ShimRuntime(log);
}
