import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DockerfileStep } from '../dockerfile/index.js';
import { LayerUnpacker } from '../image/unpack.js';
import { lookupBuildCache, recordBuildCache } from './build-cache.js';
import { type BuildRuntimeConfig, applyConfigStep, historyCreatedBy } from './image-config.js';
import type { BuiltLayer } from './layers.js';
import { type RunGroupItem, runRunGroup } from './run-group.js';
import type { RunStep } from './run-mounts.js';
import type { BuildSession } from './session.js';
import { type StageState, createStageState, pushLayer } from './stage-state.js';
import type { StepContext } from './step-context.js';
import { writeHostStepLayer } from './step-files.js';
import { runArgv, runCommand } from './step-run.js';

/**
 * One stage, step by step: metadata steps change the config; a step whose cache key is known
 * reuses its layer; any other step runs (RUN in a VM, WORKDIR/COPY/ADD on the host), its layer is
 * applied to the stage's tree at once and recorded in the cache.
 */

const FS_KEYWORDS = new Set(['RUN', 'COPY', 'ADD', 'WORKDIR']);
/** RUN steps and metadata steps one VM takes at most (Kestrel stacks an overlay per layer). */
const MAX_GROUP_ITEMS = 64;

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

/** Runs a WORKDIR, COPY or ADD step the cache does not have. */
async function runHostStep(s: BuildSession, c: StepContext): Promise<void> {
  s.progress({ type: 'step', id: c.id, name: c.name, stage: c.st.index, step: c.i, status: 'running' });
  const stepDir = await mkdtemp(join(s.work, 'step-'));
  try {
    const root = await s.trees.materialize(c.st);
    const tarPath = join(stepDir, 'layer.tar');
    await finishStep(s, c, await writeHostStepLayer(s, c, root, tarPath), tarPath, root);
  } finally {
    await rm(stepDir, { recursive: true, force: true });
  }
}

/** A step that only changes the config: applied now; its history line is returned (ARG has none). */
function applyMetadataStep(st: StageState, step: DockerfileStep): string | undefined {
  if (step.keyword === 'ARG') return undefined;
  applyConfigStep(st.config, step, st);
  return historyCreatedBy(step);
}

const isMetadataStep = (step: DockerfileStep) => !FS_KEYWORDS.has(step.keyword);

/** The context of a step that changes the filesystem (a WORKDIR is applied to the config here). */
function stepContext(s: BuildSession, st: StageState, step: DockerfileStep, i: number, total: number): StepContext {
  const t0 = Date.now();
  const name = `[${st.label ? `${st.label} ` : ''}${i + 2}/${total}] ${oneLine(step.original)}`;
  const id = s.nextVertex();
  const key = s.r.keys.steps.get(st.index)![i].key;
  if (step.keyword === 'WORKDIR') applyConfigStep(st.config, step, st);
  const argv = step.keyword === 'RUN' ? runArgv(step as RunStep) : undefined;
  return { st, step, i, id, name, key, t0, argv, createdBy: historyCreatedBy(step, argv) };
}

/** Whether the stage's steps look the cache up (--no-cache, --no-cache-filter). */
function usesCache(s: BuildSession, st: StageState): boolean {
  if (s.opts.noCache) return false;
  const filter = s.opts.noCacheFilter ?? [];
  const name = s.r.dockerfile.stages[st.index].name;
  return !filter.some((f) => f === String(st.index) || (name !== undefined && f.toLowerCase() === name.toLowerCase()));
}

/** Reuses the step's cached layer, when the cache has it. */
async function reuseCached(s: BuildSession, c: StepContext, cache: boolean): Promise<boolean> {
  const hit = cache ? await lookupBuildCache(s.store, c.key) : undefined;
  if (!hit) return false;
  pushLayer(c.st, hit.layer, c.createdBy, false, s.epoch);
  reportStep(s, c, true, hit.layer);
  return true;
}

/**
 * Runs the RUN `first` and the uncached RUN steps that follow it (metadata steps between them
 * included) in one VM. A RUN with mounts runs alone. Returns the index of the next step to look at.
 */
async function runRunSteps(s: BuildSession, first: StepContext, from: number, total: number, cache: boolean) {
  const st = first.st;
  const steps = s.r.dockerfile.stages[st.index].steps;
  const items: RunGroupItem[] = [{ kind: 'run', c: first, command: runCommand(s, first) }];
  let i = from;
  let hit: StepContext | undefined;
  const groupable = (step: DockerfileStep) =>
    step.keyword === 'RUN' && step.mounts.length === 0 && items.length < MAX_GROUP_ITEMS;
  if ((first.step as RunStep).mounts.length === 0 && s.groupRuns) {
    for (; i < steps.length; i++) {
      const step = steps[i];
      if (isMetadataStep(step)) {
        const createdBy = applyMetadataStep(st, step);
        if (createdBy !== undefined) items.push({ kind: 'meta', createdBy });
        continue;
      }
      if (!groupable(step)) break;
      const c = stepContext(s, st, step, i, total);
      if (cache && (await lookupBuildCache(s.store, c.key))) {
        hit = c;
        i++;
        break;
      }
      items.push({ kind: 'run', c, command: runCommand(s, c) });
    }
  }
  await runRunGroup(s, items);
  if (hit) await reuseCached(s, hit, true);
  return i;
}

export async function runStage(s: BuildSession, index: number): Promise<void> {
  const stage = s.r.dockerfile.stages[index];
  const st = startStage(s, index);
  s.states.set(index, st);
  const cache = usesCache(s, st);
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
  let i = 0;
  while (i < stage.steps.length) {
    s.signal?.throwIfAborted();
    const step = stage.steps[i];
    if (isMetadataStep(step)) {
      const createdBy = applyMetadataStep(st, step);
      if (createdBy !== undefined) pushLayer(st, null, createdBy, false, s.epoch);
      i++;
      continue;
    }
    const c = stepContext(s, st, step, i, total);
    i++;
    if (await reuseCached(s, c, cache)) continue;
    if (step.keyword === 'RUN') i = await runRunSteps(s, c, i, total, cache);
    else await runHostStep(s, c);
  }
}
