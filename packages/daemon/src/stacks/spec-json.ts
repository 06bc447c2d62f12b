// The stack spec as the CLI sends it today: JSON from @hypr/core's convertToStack.
import { HyprError } from '@hypr/core';
import type { StackSpec } from '@hypr/core/compose';

export function parseSpec(json: string): StackSpec {
  let spec: StackSpec;
  try {
    spec = JSON.parse(json) as StackSpec;
  } catch (e) {
    throw new HyprError('INVALID_ARGUMENT', 'the stack spec is not valid JSON', undefined, { cause: e });
  }
  if (!spec || typeof spec.name !== 'string' || !spec.services || !Array.isArray(spec.startOrder))
    throw new HyprError('INVALID_ARGUMENT', 'the stack spec lacks name, services or startOrder');
  return spec;
}
