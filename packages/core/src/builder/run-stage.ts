import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DockerfileStep } from '../dockerfile/index.js';
import { LayerUnpacker } from '../image/unpack.js';
import { lookupBuildCache, recordBuildCache } from './build-cache.js';
import { type BuildRuntimeConfig, applyConfigStep, historyCreatedBy } from './image-config.js';
import type { BuiltLayer } from './layers.js';
import type { RunStep } from './run-mounts.js';
import type { BuildSession } from './session.js';
import { type StageState, createStageState, pushLayer } from './stage-state.js';
import type { StepContext } from './step-context.js';
import { writeHostStepLayer } from './step-files.js';
import { runArgv, runRunStep } from './step-run.js';

/**
 * One stage, step by step: metadata steps change the config; a step whose cache key is known
 * reuses its layer; any other step runs (RUN in a VM, WORKDIR/COPY/ADD on the host), its layer is
 * applied to the stage's tree at once and recorded in the cache.
 */

function oneLine(text: string): string {
  return text
    .replace(/\\\r?\n\s*/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The stage's starting state; the ONBUILD triggers of a base image are reported, not run. */
function startStage(s: BuildSession, index: number): StageState {
  const stage = s.r.dockerfile.stages[index];
  const label = s.stageLabel(index);
  if (stage.base.kind === 'stage') return createStageState(index, label, { stage: s.states.get(stage.base.index)! });
  if (stage.base.kind === 'scratch') return createStageState(index, label, { scratch: true });
  const rec = s.r.images.get(stage.base.ref)!;
  const onBuild = (rec.config.config as BuildRuntimeConfig | undefined)?.OnBuild;
  if (onBuild && onBuild.length > 0) {
    s.progress({
      type: 'warning',
      warning: {
        rule: 'OnBuildNotRun',
        message: `the ONBUILD triggers of ${stage.base.ref} were not run: ${onBuild.join('; ')}`,
        file: s.r.fileName,
        line: stage.from.line,
        url: 'https://docs.docker.com/reference/dockerfile/#onbuild',
      },
    });
  }
  return createStageState(index, label, { image: rec });
}

/** Reports a step as cached or done, in the result and as a progress event. */
function reportStep(s: BuildSession, c: StepContext, cached: boolean, layer: BuiltLayer | null): void {
  const durationMs = Date.now() - c.t0;
  s.reports.push({
    name: c.name,
    stage: c.st.index,
    step: c.i,
    keyword: c.step.keyword,
    cached,
    ...(layer ? { layer: layer.digest } : {}),
    durationMs,
  });
  const status = cached ? 'cached' : 'done';
  s.progress({ type: 'step', id: c.id, name: c.name, stage: c.st.index, step: c.i, status, durationMs });
}

/** A step that ran: its layer joins the stage (and its tree, from the plain tar), the cache and the report. */
async function finishStep(s: BuildSession, c: StepContext, layer: BuiltLayer | null, tarPath: string, root: string) {
  if (layer) await new LayerUnpacker(root, { signal: s.signal }).unpackLayer(createReadStream(tarPath));
  pushLayer(c.st, layer, c.createdBy, true, s.epoch);
  recordBuildCache(s.store, c.key, layer);
  reportStep(s, c, false, layer);
  s.log.debug({ step: c.name, layer: layer?.digest, ms: Date.now() - c.t0 }, 'step done');
}

/** Runs a step the cache does not have. */
async function runUncached(s: BuildSession, c: StepContext): Promise<void> {
  s.progress({ type: 'step', id: c.id, name: c.name, stage: c.st.index, step: c.i, status: 'running' });
  const stepDir = await mkdtemp(join(s.work, 'step-'));
  try {
    const root = await s.trees.materialize(c.st);
    const tarPath = join(stepDir, 'layer.tar');
    const layer =
      c.step.keyword === 'RUN'
        ? await runRunStep(s, c, root, stepDir, tarPath)
        : await writeHostStepLayer(s, c, root, tarPath);
    await finishStep(s, c, layer, tarPath, root);
  } finally {
    await rm(stepDir, { recursive: true, force: true });
  }
}

/** The step's context, or undefined for a step that only changes the config (done here). */
function stepContext(s: BuildSession, st: StageState, step: DockerfileStep, i: number, total: number) {
  const t0 = Date.now();
  const name = `[${st.label ? `${st.label} ` : ''}${i + 2}/${total}] ${oneLine(step.original)}`;
  if (step.keyword === 'ARG') return undefined;
  if (step.keyword !== 'WORKDIR' && applyConfigStep(st.config, step, st)) {
    pushLayer(st, null, historyCreatedBy(step), false, s.epoch);
    return undefined;
  }
  const id = s.nextVertex();
  const key = s.r.keys.steps.get(st.index)![i].key;
  if (step.keyword === 'WORKDIR') applyConfigStep(st.config, step, st);
  const argv = step.keyword === 'RUN' ? runArgv(step as RunStep) : undefined;
  const c: StepContext = { st, step, i, id, name, key, t0, argv, createdBy: historyCreatedBy(step, argv) };
  return c;
}

export async function runStage(s: BuildSession, index: number): Promise<void> {
  const stage = s.r.dockerfile.stages[index];
  const st = startStage(s, index);
  s.states.set(index, st);
  const total = stage.steps.length + 1;
  const fromName = `[${st.label ? `${st.label} ` : ''}1/${total}] FROM ${stage.base.kind === 'image' ? stage.base.ref : stage.from.image}`;
  s.progress({
    type: 'step',
    id: s.nextVertex(),
    name: fromName,
    stage: index,
    step: 0,
    status: 'done',
    durationMs: 0,
  });
  for (const [i, step] of stage.steps.entries()) {
    s.signal?.throwIfAborted();
    const c = stepContext(s, st, step, i, total);
    if (!c) continue;
    const hit = s.opts.noCache ? undefined : await lookupBuildCache(s.store, c.key);
    if (hit) {
      pushLayer(st, hit.layer, c.createdBy, false, s.epoch);
      reportStep(s, c, true, hit.layer);
      continue;
    }
    await runUncached(s, c);
  }
}
