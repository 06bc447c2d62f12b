// Which services an operation acts on, and the hash that decides whether a container is recreated.
import { createHash } from 'node:crypto';
import { HyprError } from '@hypr/core';
import { canonicalJson } from '@hypr/core/builder';
import type { StackService, StackSpec } from '@hypr/core/compose';

/**
 * The part of a service that decides whether its container must be recreated (not replicas). The
 * hash is persisted in a label: its input must stay byte for byte what it was (services.test.ts pins it).
 */
export function serviceConfigHash(svc: StackService, imageDigest: string | undefined): string {
  const { replicas: _r, dependsOn: _d, ...rest } = svc;
  return createHash('sha256')
    .update(`{"service":${canonicalJson(rest)},"image":${JSON.stringify(imageDigest ?? '')}}`)
    .digest('hex');
}

function noSuchService(spec: StackSpec, name: string): HyprError {
  return new HyprError(
    'COMPOSE_NO_SUCH_SERVICE',
    `no such service: ${name}`,
    `services: ${Object.keys(spec.services).join(', ')}`,
  );
}

/** Services to act on: the named ones (all when none) plus, unless noDeps, what they depend on. */
export function selectServices(spec: StackSpec, names: readonly string[], noDeps = false): Set<string> {
  for (const n of names) if (!spec.services[n]) throw noSuchService(spec, n);
  if (!names.length) return new Set(Object.keys(spec.services));
  const out = new Set<string>();
  const add = (n: string) => {
    if (out.has(n) || !spec.services[n]) return;
    out.add(n);
    if (!noDeps) for (const d of spec.services[n].dependsOn) add(d.service);
  };
  for (const n of names) add(n);
  return out;
}

/** `up --scale SERVICE=N`: the spec with those services' replicas replaced. */
export function withScale(spec: StackSpec, scale: Record<string, number> = {}): StackSpec {
  const entries = Object.entries(scale);
  if (!entries.length) return spec;
  const services = { ...spec.services };
  for (const [name, n] of entries) {
    if (!services[name]) throw noSuchService(spec, name);
    if (!Number.isInteger(n) || n < 0)
      throw new HyprError('INVALID_ARGUMENT', `invalid --scale ${name}=${n}`, 'give a number of replicas, 0 or more');
    services[name] = { ...services[name], replicas: n };
  }
  return { ...spec, services };
}
