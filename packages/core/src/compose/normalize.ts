import type { ComposeLayer, NormalizeContext } from './layer-types.js';
import { normalizeService } from './normalize-service.js';
/**
 * Phase 4: each validated file is brought to the canonical shapes of the model (long port and volume
 * syntax, mappings for KEY=VALUE lists, absolute paths, canonical durations, sizes in bytes) before files
 * are merged, so that merging compares like with like. Defaults that depend on the merged result
 * (build's Dockerfile, the default network, resource names) are applied after the merge, in load.ts.
 */
import { type Report, copyExtensions, toBool, toStringMap } from './normalize-values.js';
import type { RawComposeFile } from './schema.js';
import type { ComposeFileObject, ComposeNetwork, ComposeService, ComposeVolume } from './types.js';
import { resolveHostPath } from './volumes.js';

export type { Report } from './normalize-values.js';

export type { ComposeLayer, LayerService, NormalizeContext } from './layer-types.js';

export function normalizeLayer(raw: RawComposeFile, context: NormalizeContext): ComposeLayer {
  const report: Report = Object.assign(
    (path: (string | number)[], message: string, hint?: string) => context.report(path, message, hint),
    { warn: context.warn },
  );
  const ctx: NormalizeContext = { ...context, report };
  const layer: ComposeLayer = { services: {}, networks: {}, volumes: {}, secrets: {}, configs: {}, extensions: {} };
  if (raw.name !== undefined) layer.name = raw.name;
  copyExtensions(layer.extensions, raw);
  for (const [name, svc] of Object.entries(raw.services ?? {})) {
    layer.services[name] = normalizeService(svc, ctx, ['services', name]);
  }
  for (const [name, net] of Object.entries(raw.networks ?? {})) {
    const n: Partial<ComposeNetwork> = {};
    if (net) {
      copyDefined(n, net, ['name', 'driver', 'driver_opts', 'ipam']);
      for (const k of ['internal', 'attachable', 'enable_ipv4', 'enable_ipv6'] as const) {
        if (net[k] !== undefined) n[k] = toBool(net[k], report, ['networks', name, k]);
      }
      if (net.labels !== undefined) n.labels = toStringMap(net.labels, report, ['networks', name, 'labels']);
      applyExternal(n, net.external, report, ['networks', name]);
      copyExtensions(n, net);
    }
    layer.networks[name] = n;
  }
  for (const [name, vol] of Object.entries(raw.volumes ?? {})) {
    const v: Partial<ComposeVolume> = {};
    if (vol) {
      copyDefined(v, vol, ['name', 'driver', 'driver_opts']);
      if (vol.labels !== undefined) v.labels = toStringMap(vol.labels, report, ['volumes', name, 'labels']);
      applyExternal(v, vol.external, report, ['volumes', name]);
      copyExtensions(v, vol);
      // A local volume that binds a host directory: its device is a path (compose-go volumeDriverOpts).
      const opts = v.driver_opts;
      if (v.driver === 'local' && opts?.o === 'bind' && typeof opts.device === 'string') {
        v.driver_opts = { ...opts, device: resolveHostPath(opts.device, ctx.baseDir) };
      }
    }
    layer.volumes[name] = v;
  }
  for (const kind of ['secrets', 'configs'] as const) {
    for (const [name, obj] of Object.entries(raw[kind] ?? {})) {
      const o: Partial<ComposeFileObject> = {};
      copyDefined(o, obj, ['name', 'environment', 'content', 'driver', 'driver_opts', 'template_driver']);
      if (obj.file !== undefined) o.file = resolveHostPath(obj.file, ctx.baseDir);
      if (obj.labels !== undefined) o.labels = toStringMap(obj.labels, report, [kind, name, 'labels']);
      applyExternal(o, obj.external, report, [kind, name]);
      copyExtensions(o, obj);
      layer[kind][name] = o;
    }
  }
  return layer;
}

/** `external:` as compose-go's transform/external.go reads it, `external: {name: …}` included (deprecated). */
function applyExternal(
  target: { external?: boolean; name?: string },
  external: boolean | string | { name?: string } | undefined,
  report: Report,
  path: (string | number)[],
): void {
  if (external === undefined) return;
  if (typeof external === 'object') {
    target.external = true;
    if (external.name !== undefined) {
      report.warn?.(path, 'external.name is deprecated. Please set name and external: true');
      if (target.name !== undefined && target.name !== external.name) {
        report(path, 'name and external.name conflict; only use name');
      }
      target.name = external.name;
    }
    return;
  }
  target.external = toBool(external, report, [...path, 'external']);
}

function copyDefined<T extends object, S extends object>(target: T, source: S, keys: (keyof S & keyof T)[]): void {
  for (const k of keys) if (source[k] !== undefined) (target as Record<string, unknown>)[k as string] = source[k];
}
