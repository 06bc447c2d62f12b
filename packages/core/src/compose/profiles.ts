/**
 * Phase 9 of the load: services none of whose profiles is enabled are left out (kept aside as
 * disabled); a service named on the command line is enabled whatever its profiles, and brings the
 * services it depends on.
 */
import type { Fail } from './defaults.js';
import { suggestHint } from './references.js';
import type { ComposeService } from './types.js';

/** The profiles enabled: `--profile`, else COMPOSE_PROFILES (comma-separated). */
export function enabledProfiles(option: string[] | undefined, fromEnv: string | undefined): Set<string> {
  if (option) return new Set(option);
  return new Set(
    (fromEnv ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean),
  );
}

/** Moves the services that are not enabled from `services` to the returned mapping. */
export function applyProfiles(
  services: Record<string, ComposeService>,
  enabled: Set<string>,
  namedServices: readonly string[],
  fail: Fail,
): Record<string, ComposeService> {
  const named = new Set(namedServices);
  for (const s of named)
    if (!services[s]) fail('services', `no such service: ${s}`, suggestHint(s, Object.keys(services)));
  const disabled: Record<string, ComposeService> = {};
  for (const [name, svc] of Object.entries(services)) {
    const profiles = svc.profiles ?? [];
    const active = profiles.length === 0 || enabled.has('*') || profiles.some((p) => enabled.has(p)) || named.has(name);
    if (!active) {
      disabled[name] = svc;
      delete services[name];
    }
  }
  // A service named explicitly brings the services it depends on.
  const queue = [...named].filter((n) => services[n]);
  while (queue.length) {
    const s = queue.pop()!;
    for (const dep of Object.keys(services[s].depends_on ?? {})) {
      if (disabled[dep] && named.size > 0) {
        services[dep] = disabled[dep];
        delete disabled[dep];
        queue.push(dep);
      }
    }
  }
  return disabled;
}
