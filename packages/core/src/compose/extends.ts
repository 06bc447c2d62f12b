/**
 * Phase 5: `extends`. A service extending another (in the same file or in another file, whose relative
 * paths stay relative to that file) is the base service, itself resolved first, with the extending
 * service merged onto it by the usual merge rules. Cycles are errors naming the chain.
 */
import { dirname, resolve } from 'node:path';
import { unreadableReason } from './locate.js';
import { mergeService } from './merge.js';
import type { ComposeLayer, LayerService } from './normalize.js';
import type { MergeTag } from './yaml-source.js';

export interface ExtendsSource {
  /** The canonical layer of a file, loading it if needed (throws ComposeValidationError on a bad file). */
  layerOf(file: string): { layer: ComposeLayer; tags: Map<string, MergeTag> };
  report(file: string, path: string, message: string, hint?: string): void;
}

/**
 * Resolves every `extends` of the services of one document of `file`, in place: bases without `file:`
 * are looked up in that document, others in the (merged documents of the) file named.
 */
export function resolveExtends(
  file: string,
  layer: ComposeLayer,
  tags: Map<string, MergeTag>,
  source: ExtendsSource,
): void {
  const scoped: ExtendsSource = {
    layerOf: (f) => (f === file ? { layer, tags } : source.layerOf(f)),
    report: (f, path, message, hint) => source.report(f, path, message, hint),
  };
  const done = new Map<string, LayerService>();
  for (const name of Object.keys(layer.services)) {
    const resolved = resolveOne(file, name, scoped, [], done);
    if (resolved) layer.services[name] = resolved;
  }
}

function resolveOne(
  file: string,
  name: string,
  source: ExtendsSource,
  chain: { file: string; name: string }[],
  done: Map<string, LayerService>,
): LayerService | undefined {
  const key = `${file}\0${name}`;
  const cached = done.get(key);
  if (cached) return cached;
  const { layer, tags } = source.layerOf(file);
  const svc = layer.services[name];
  if (!svc) return undefined;
  if (!svc.extends) return svc;
  const ext = svc.extends;
  const baseFile = ext.file ? resolve(dirname(file), ext.file) : file;
  const here = { file, name };
  const seen = [...chain, here];
  if (seen.some((c) => c.file === baseFile && c.name === ext.service)) {
    const names = [...seen.map((c) => c.name), ext.service].join(' -> ');
    source.report(
      file,
      `services.${name}.extends`,
      `extends forms a cycle: ${names}`,
      'a service cannot extend itself, directly or through others',
    );
    const { extends: _drop, ...rest } = svc;
    return rest;
  }
  const unreadable = baseFile === file ? undefined : unreadableReason(baseFile);
  if (unreadable) {
    const why = unreadable === 'does not exist' ? 'not found' : unreadable;
    source.report(file, `services.${name}.extends.file`, `file ${JSON.stringify(ext.file)} ${why}`);
    const { extends: _drop, ...rest } = svc;
    return rest;
  }
  const baseLayer = source.layerOf(baseFile).layer;
  if (!baseLayer.services[ext.service]) {
    const where = ext.file ? ` in ${ext.file}` : '';
    source.report(
      file,
      `services.${name}.extends`,
      `extends service ${JSON.stringify(ext.service)}, which is not defined${where}`,
    );
    const { extends: _drop, ...rest } = svc;
    return rest;
  }
  const base = resolveOne(baseFile, ext.service, source, seen, done) ?? {};
  const { extends: _drop, ...own } = svc;
  const merged = mergeService(structuredClone(base), own, name, tags);
  done.set(key, merged);
  return merged;
}
