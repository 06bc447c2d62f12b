/**
 * Phase 11 of the load: what services refer to exists (services, networks, volumes, secrets, configs),
 * and depends_on has no cycle.
 */
import type { Fail } from './defaults.js';
import type { ComposeFileObject, ComposeNetwork, ComposeService, ComposeVolume } from './types.js';

/** A did-you-mean among names: the same name in another case, or one with the same start. */
export function suggestHint(word: string, candidates: string[]): string | undefined {
  const near =
    candidates.find((c) => c.toLowerCase() === word.toLowerCase()) ??
    candidates.find((c) => c.startsWith(word.slice(0, 3)));
  return near ? `did you mean ${JSON.stringify(near)}?` : undefined;
}

export interface References {
  services: Record<string, ComposeService>;
  disabledServices: Record<string, ComposeService>;
  networks: Record<string, ComposeNetwork>;
  volumes: Record<string, ComposeVolume>;
  secrets: Record<string, ComposeFileObject>;
  configs: Record<string, ComposeFileObject>;
}

export function checkReferences(r: References, fail: Fail): void {
  const names = Object.keys(r.services);
  for (const [name, svc] of Object.entries(r.services)) {
    const at = `services.${name}`;
    for (const [dep, d] of Object.entries(svc.depends_on ?? {})) {
      if (dep === name) fail(`${at}.depends_on.${dep}`, `service ${JSON.stringify(name)} depends on itself`);
      else if (r.disabledServices[dep]) {
        if (d.required) {
          const profiles = r.disabledServices[dep].profiles?.join(', ');
          fail(
            `${at}.depends_on.${dep}`,
            `service ${JSON.stringify(name)} depends on ${JSON.stringify(dep)}, which is not enabled`,
            `enable one of its profiles (${profiles})`,
          );
        } else delete svc.depends_on![dep];
      } else if (!r.services[dep]) {
        fail(
          `${at}.depends_on.${dep}`,
          `service ${JSON.stringify(name)} depends on undefined service ${JSON.stringify(dep)}`,
          suggestHint(dep, names),
        );
      }
    }
    for (const net of Object.keys(svc.networks ?? {})) {
      if (!r.networks[net])
        fail(
          `${at}.networks.${net}`,
          `service ${JSON.stringify(name)} refers to undefined network ${JSON.stringify(net)}`,
          'declare it under the top-level networks:',
        );
    }
    svc.volumes?.forEach((v, i) => {
      if (v.type === 'volume' && v.source && !r.volumes[v.source]) {
        fail(
          `${at}.volumes[${i}]`,
          `service ${JSON.stringify(name)} refers to undefined volume ${JSON.stringify(v.source)}`,
          'declare it under the top-level volumes:',
        );
      }
    });
    for (const kind of ['secrets', 'configs'] as const) {
      svc[kind]?.forEach((s, i) => {
        if (!r[kind][s.source])
          fail(
            `${at}.${kind}[${i}]`,
            `service ${JSON.stringify(name)} refers to undefined ${kind.slice(0, -1)} ${JSON.stringify(s.source)}`,
            `declare it under the top-level ${kind}:`,
          );
      });
    }
    svc.build?.secrets?.forEach((s, i) => {
      if (!r.secrets[s.source])
        fail(`${at}.build.secrets[${i}]`, `build refers to undefined secret ${JSON.stringify(s.source)}`);
    });
    for (const mode of ['network_mode', 'ipc', 'pid'] as const) {
      const v = svc[mode];
      if (typeof v === 'string' && v.startsWith('service:')) {
        const target = v.slice('service:'.length);
        if (!r.services[target]) fail(`${at}.${mode}`, `refers to undefined service ${JSON.stringify(target)}`);
      }
    }
    for (const from of svc.volumes_from ?? []) {
      const target = from.split(':')[0];
      if (!target.startsWith('container') && !r.services[target])
        fail(`${at}.volumes_from`, `refers to undefined service ${JSON.stringify(target)}`);
    }
  }
  const cycle = findDependencyCycle(r.services);
  if (cycle)
    fail(
      `services.${cycle[0]}.depends_on`,
      `dependency cycle: ${cycle.join(' -> ')}`,
      'remove one of these depends_on entries',
    );
}

/** A depends_on cycle as a list of names (first repeated last), if any. */
export function findDependencyCycle(
  services: Record<string, Pick<ComposeService, 'depends_on'>>,
): string[] | undefined {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 2 || !services[n]) return undefined;
    if (state.get(n) === 1) return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 1);
    stack.push(n);
    for (const dep of Object.keys(services[n].depends_on ?? {})) {
      if (dep === n) continue;
      const c = visit(dep);
      if (c) return c;
    }
    stack.pop();
    state.set(n, 2);
    return undefined;
  };
  for (const n of Object.keys(services)) {
    const c = visit(n);
    if (c) return c;
  }
  return undefined;
}
