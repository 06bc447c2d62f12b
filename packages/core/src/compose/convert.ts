/**
 * From the loaded compose project to the stack HYPR runs: one microVM per service replica. Each service
 * becomes its image (or the build to run first), argv overrides, environment, published ports, mounts,
 * networks with DNS aliases, resources, health check and restart policy (convert-service.ts); the stack
 * gets a start order honouring depends_on, as groups that may start in parallel. What a microVM cannot
 * honour is reported (support.ts).
 */
import { convertService } from './convert-service.js';
import {
  ComposeUnsupportedError,
  type StackNetwork,
  type StackNotice,
  type StackService,
  type StackSpec,
  type StackVolume,
} from './stack-types.js';
import { checkSupport } from './support.js';
import type { ComposeProject, ComposeService } from './types.js';

export * from './stack-types.js';

/** Groups services so that each one comes after everything it depends on. Assumes no cycles (checked at load). */
export function computeStartOrder(services: Record<string, Pick<ComposeService, 'depends_on'>>): string[][] {
  const level = new Map<string, number>();
  const depth = (name: string, seen: Set<string>): number => {
    const known = level.get(name);
    if (known !== undefined) return known;
    if (seen.has(name)) return 0;
    seen.add(name);
    let d = 0;
    for (const dep of Object.keys(services[name]?.depends_on ?? {})) {
      if (services[dep] && dep !== name) d = Math.max(d, depth(dep, seen) + 1);
    }
    level.set(name, d);
    return d;
  };
  const groups: string[][] = [];
  for (const name of Object.keys(services).sort()) {
    const d = depth(name, new Set());
    (groups[d] ??= []).push(name);
  }
  return groups.filter(Boolean);
}

function convertNetworks(project: ComposeProject, warnings: StackNotice[]): Record<string, StackNetwork> {
  const networks: Record<string, StackNetwork> = {};
  for (const [key, n] of Object.entries(project.networks)) {
    if (n.driver && n.driver !== 'bridge') {
      warnings.push({
        path: `networks.${key}.driver`,
        message: `network driver ${n.driver} is not supported; HYPR makes a bridge`,
      });
    }
    networks[key] = {
      key,
      name: n.name,
      external: !!n.external,
      internal: !!n.internal,
      driver: 'bridge',
      subnets: (n.ipam?.config ?? []).map((c) => c.subnet).filter((s): s is string => !!s),
    };
  }
  return networks;
}

function convertVolumes(project: ComposeProject, warnings: StackNotice[]): Record<string, StackVolume> {
  const volumes: Record<string, StackVolume> = {};
  for (const [key, v] of Object.entries(project.volumes)) {
    if (v.driver && v.driver !== 'local') {
      warnings.push({
        path: `volumes.${key}.driver`,
        message: `volume driver ${v.driver} is not supported; HYPR makes a local volume`,
      });
    }
    volumes[key] = { key, name: v.name, external: !!v.external, driver: 'local', labels: v.labels ?? {} };
  }
  return volumes;
}

/** Converts a loaded project into the stack HYPR runs. Throws ComposeUnsupportedError for what cannot run. */
export function convertToStack(project: ComposeProject): StackSpec {
  const warnings: StackNotice[] = [];
  const errors: StackNotice[] = [];
  const services: Record<string, StackService> = {};
  for (const [name, svc] of Object.entries(project.services)) {
    const warn = (path: string, message: string) => warnings.push({ service: name, path, message });
    const fail = (path: string, message: string) => errors.push({ service: name, path, message });
    checkSupport(name, svc, warn, fail);
    services[name] = convertService(name, svc, project, warn, fail);
  }
  const networks = convertNetworks(project, warnings);
  const volumes = convertVolumes(project, warnings);
  if (errors.length > 0) throw new ComposeUnsupportedError(errors);
  return { name: project.name, services, startOrder: computeStartOrder(project.services), networks, volumes, warnings };
}
