import { dirname, join } from 'node:path';
import { HyprError } from '../errors.js';
import { downloadAddSources } from './add-url.js';
import { writeCopyLayer } from './copy.js';
import { type BuiltLayer, LayerTarWriter, storeLayerTar } from './layers.js';
import type { BuildSession } from './session.js';
import { createDirSourceTree, pathParts } from './source-tree.js';
import type { StepContext } from './step-context.js';

/**
 * The steps done on the host, with no VM: WORKDIR (its missing directories) and COPY/ADD (the
 * files, read from the context or another stage). Each writes its layer tar at `tarPath` and stores
 * it; no entries means no layer.
 */

/** The layer of a WORKDIR whose directory (or a parent) the stage lacks. */
async function workdirLayer(s: BuildSession, root: string, workdir: string, tarPath: string) {
  const tree = createDirSourceTree(root);
  const existing = tree.resolve(workdir);
  if (existing !== undefined && tree.stat(existing)?.type === 'dir') return null;
  const w = await LayerTarWriter.create(tarPath);
  const parts = pathParts(workdir);
  for (let k = 1; k <= parts.length; k++) {
    const p = parts.slice(0, k).join('/');
    if (tree.stat(p)) continue;
    await w.add({ path: p, type: 'directory', mode: 0o755, mtime: 0 });
  }
  await w.close();
  return w.entries > 0 ? storeLayerTar(s.store, tarPath, s.signal) : null;
}

async function copyLayer(s: BuildSession, c: StepContext, root: string, tarPath: string) {
  const step = c.step as StepContext['step'] & { keyword: 'COPY' | 'ADD' };
  const from = step.keyword === 'COPY' ? step.from : undefined;
  const tree = from === undefined ? s.r.contextTree : await s.trees.fromTree(from, c.st.index);
  const remote =
    step.keyword === 'ADD'
      ? await downloadAddSources(step, join(dirname(tarPath), 'add'), s.r.fileName, s.signal)
      : undefined;
  const w = await LayerTarWriter.create(tarPath);
  try {
    await writeCopyLayer({
      step,
      source: tree,
      stageRoot: root,
      workdir: c.st.config.WorkingDir || '/',
      sourceDateEpoch: s.epoch,
      file: s.r.fileName,
      writer: w,
      remote,
    });
    await w.close();
  } catch (e) {
    await w.abort();
    throw e;
  }
  return w.entries > 0 ? storeLayerTar(s.store, tarPath, s.signal) : null;
}

/** Writes and stores the layer of a WORKDIR, COPY or ADD step. */
export async function writeHostStepLayer(
  s: BuildSession,
  c: StepContext,
  root: string,
  tarPath: string,
): Promise<BuiltLayer | null> {
  if (c.step.keyword === 'WORKDIR') return workdirLayer(s, root, c.st.config.WorkingDir || '/', tarPath);
  if (c.step.keyword === 'COPY' || c.step.keyword === 'ADD') return copyLayer(s, c, root, tarPath);
  throw new HyprError('BUILD_INTERNAL', `no executor for ${c.step.keyword}`);
}
