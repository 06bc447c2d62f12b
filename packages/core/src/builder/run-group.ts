import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LayerUnpacker } from '../image/unpack.js';
import { recordBuildCache } from './build-cache.js';
import type { BuiltLayer } from './layers.js';
import type { BuildRunNetwork } from './options.js';
import { type RunStep, prepareRunMounts } from './run-mounts.js';
import type { BuildSession } from './session.js';
import { pushLayer } from './stage-state.js';
import type { StepContext } from './step-context.js';
import { runFailure, storeRunLayer } from './step-run.js';
import type { BuildStepCommand, BuildStepResult } from './step-vm.js';

/**
 * Consecutive RUN steps of a stage that miss the cache run in one VM, each still yielding its own
 * layer (Kestrel's LAYER command): one boot instead of one per step. Metadata steps between them
 * (ENV, USER, LABEL …) only change the config the next RUN sees, so they do not end a group; their
 * history lines keep their place. Layers are applied to the stage's tree only after the VM has ended
 * (the tree is the VM's read-only lower layer while it runs); each is then cached like a lone step.
 */

export type RunGroupItem =
  | { kind: 'meta'; createdBy: string }
  | { kind: 'run'; c: StepContext; command: BuildStepCommand; startedAt?: number; done?: boolean };

type RunItem = RunGroupItem & { kind: 'run' };

/** Live progress: a step is `running` once the one before it is done; its output goes under it. */
class GroupProgress {
  private current = 0;

  constructor(
    private readonly s: BuildSession,
    private readonly runs: RunItem[],
  ) {}

  start(k: number): void {
    const it = this.runs[k];
    if (!it) return;
    this.current = k;
    it.startedAt = Date.now();
    const c = it.c;
    this.s.progress({ type: 'step', id: c.id, name: c.name, stage: c.st.index, step: c.i, status: 'running' });
  }

  log(stream: 'stdout' | 'stderr', data: Buffer): void {
    this.s.progress({ type: 'log', id: this.runs[this.current].c.id, stream, data });
  }

  /** Command k ended well: its step is done and the next one runs. */
  done(k: number): void {
    const it = this.runs[k];
    if (!it || it.done) return;
    it.done = true;
    const c = it.c;
    const durationMs = Date.now() - (it.startedAt ?? c.t0);
    this.s.progress({ type: 'step', id: c.id, name: c.name, stage: c.st.index, step: c.i, status: 'done', durationMs });
    this.start(k + 1);
  }
}

/** A RUN that ran: its layer joins the tree, the stage, the cache and the report. */
async function commitRun(s: BuildSession, it: RunItem, layer: BuiltLayer | null, tarPath: string, root: string) {
  const c = it.c;
  if (layer) await new LayerUnpacker(root, { signal: s.signal }).unpackLayer(createReadStream(tarPath));
  pushLayer(c.st, layer, c.createdBy, true, s.epoch);
  recordBuildCache(s.store, c.key, layer);
  const durationMs = Date.now() - (it.startedAt ?? c.t0);
  s.reports.push({
    name: c.name,
    stage: c.st.index,
    step: c.i,
    keyword: 'RUN',
    cached: false,
    ...(layer ? { layer: layer.digest } : {}),
    durationMs,
  });
  if (!it.done) {
    it.done = true;
    s.progress({ type: 'step', id: c.id, name: c.name, stage: c.st.index, step: c.i, status: 'done', durationMs });
  }
  s.log.debug({ step: c.name, layer: layer?.digest, ms: durationMs }, 'step done');
}

/** The network of the group's VM from the caller's hook, when some RUN in it has network. */
async function acquireNetwork(s: BuildSession, runs: RunItem[]): Promise<BuildRunNetwork | undefined> {
  const hook = s.opts.runNetwork;
  // The native builder's RUN steps with network use the host's.
  if (!hook || s.opts.builder === 'native' || s.opts.network === 'none') return undefined;
  if (runs.every((r) => r.command.network === 'none')) return undefined;
  return hook({ signal: s.signal });
}

/** Applies the group's results in Dockerfile order: layers of the RUNs that ended well, history lines. */
async function commitGroup(s: BuildSession, items: RunGroupItem[], r: BuildStepResult, stepDir: string) {
  const runs = items.filter((it): it is RunItem => it.kind === 'run');
  const layers = r.layerTarPaths ?? (r.layerTarPath ? [r.layerTarPath] : []);
  const root = await s.trees.materialize(runs[0].c.st);
  let k = 0;
  for (const it of items) {
    if (it.kind === 'meta') {
      pushLayer(runs[0].c.st, null, it.createdBy, false, s.epoch);
      continue;
    }
    if (k >= layers.length) break;
    const tarPath = join(stepDir, `layer-${k}.tar`);
    await commitRun(s, it, await storeRunLayer(s, layers[k], tarPath), tarPath, root);
    k++;
  }
  if (r.failed || k < runs.length) {
    const failed = r.failed ?? { index: k, exitCode: -1, outputTail: '' };
    throw runFailure(s, runs[failed.index].c, failed.exitCode, failed.outputTail);
  }
}

/** Runs a group (one RUN with its mounts, or several without) in one VM and commits what it produced. */
export async function runRunGroup(s: BuildSession, items: RunGroupItem[]): Promise<void> {
  const runs = items.filter((it): it is RunItem => it.kind === 'run');
  const first = runs[0].c;
  const stepDir = await mkdtemp(join(s.work, 'step-'));
  const progress = new GroupProgress(s, runs);
  progress.start(0);
  let network: BuildRunNetwork | undefined;
  try {
    const root = await s.trees.materialize(first.st);
    const workdir = first.st.config.WorkingDir || '/';
    const mounts =
      runs.length === 1
        ? await prepareRunMounts(
            s.mountsContext,
            first.step as RunStep,
            { index: first.st.index, workdir },
            stepDir,
            runs[0].command.env,
          )
        : [];
    network = await acquireNetwork(s, runs);
    s.vmRuns += runs.length;
    s.vmBoots++;
    const r = await s.runStep({
      rootfsDir: root,
      commands: runs.map((it) => it.command),
      ...(runs.length > 1 ? { layerPerCommand: true } : {}),
      mounts,
      ...(network ? { network } : {}),
      onCommandDone: (k) => progress.done(k),
      cpus: s.opts.cpus,
      memoryMiB: s.opts.memoryMiB,
      signal: s.signal,
      timeoutMs: s.opts.stepTimeoutMs,
      logger: s.opts.logger,
      onStdout: (data) => progress.log('stdout', data),
      onStderr: (data) => progress.log('stderr', data),
    });
    try {
      await commitGroup(s, items, r, stepDir);
    } finally {
      await r.cleanup();
    }
  } finally {
    await network?.release();
    await rm(stepDir, { recursive: true, force: true });
  }
}
