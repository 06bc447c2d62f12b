/**
 * Phase 8 of the load: defaults that depend on the merged project (build context and Dockerfile, the
 * default network) and the checks between keys of one service; and the names of resources
 * (`<project>_<key>` unless named or external).
 */
import type { LayerService } from './normalize.js';
import type { ComposeService } from './types.js';

export type Fail = (path: string, message: string, hint?: string) => void;

export function applyServiceDefaults(
  name: string,
  layerSvc: LayerService,
  projectDir: string,
  fail: Fail,
): ComposeService {
  const { extends: _ignored, ...svc } = layerSvc;
  const out = svc as ComposeService;
  const at = `services.${name}`;
  if (out.build) {
    const b = out.build;
    if (b.context === undefined) b.context = projectDir;
    if (b.dockerfile !== undefined && b.dockerfile_inline !== undefined) {
      fail(`${at}.build`, 'dockerfile and dockerfile_inline cannot both be set');
    }
    if (b.dockerfile === undefined && b.dockerfile_inline === undefined) b.dockerfile = 'Dockerfile';
  }
  if (!out.image && !out.build && !out.provider) {
    fail(at, `service ${JSON.stringify(name)} has neither an image nor a build context`, 'set image: or build:');
  }
  if (out.network_mode !== undefined && out.networks !== undefined) {
    fail(`${at}.network_mode`, 'network_mode and networks cannot be combined');
  }
  if (out.network_mode === undefined && out.networks === undefined) out.networks = { default: null };
  if (out.scale !== undefined && out.deploy?.replicas !== undefined && out.scale !== out.deploy.replicas) {
    fail(`${at}.scale`, `scale (${out.scale}) and deploy.replicas (${out.deploy.replicas}) differ`, 'keep one of them');
  }
  if (out.healthcheck?.disable && out.healthcheck.test && out.healthcheck.test[0] !== 'NONE') {
    fail(`${at}.healthcheck`, 'test and disable cannot both be set');
  }
  return out;
}

/** A network's, volume's, secret's or config's name on the host. */
export function resourceName(project: string, key: string, r: { name?: string; external?: boolean }): string {
  if (r.name !== undefined) return r.name;
  return r.external ? key : `${project}_${key}`;
}
