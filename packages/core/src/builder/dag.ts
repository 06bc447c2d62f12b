import { type Dockerfile, DockerfileError, type DockerfileStage, type DockerfileStep } from '../dockerfile/index.js';
import { HyprError, suggest } from '../errors.js';

/**
 * The build graph: stages are nodes; `FROM stage`, `COPY --from=…` and `RUN --mount=from=…` are
 * edges. Only the stages the target needs are kept, and `levels` groups them so that every stage
 * of a level depends only on earlier levels: the stages of one level can be built in parallel.
 */

/** Where `--from` / `from=` reads: another stage of this Dockerfile, or an image. */
export type BuildSourceRef = { kind: 'stage'; index: number } | { kind: 'image'; ref: string };

export interface BuildGraphStage {
  index: number;
  name?: string;
  stage: DockerfileStage;
  /** Stages this one reads (base, --from, mounts), sorted, no duplicates. */
  dependencies: number[];
  /** Images read by --from or mounts (besides the base image). */
  images: string[];
}

export interface BuildGraph {
  dockerfile: Dockerfile;
  /** Index of the stage the build produces. */
  target: number;
  /** The reachable stages, by index. */
  stages: Map<number, BuildGraphStage>;
  /** A topological order of the reachable stages (dependencies first, then by index). */
  order: number[];
  /** Stages grouped by depth: each level only needs the levels before it. */
  levels: number[][];
}

export interface CreateBuildGraphOptions {
  /** `--target`: a stage name; the last stage when absent. */
  target?: string;
}

/**
 * Resolves a `--from` value as BuildKit does: a stage name (case-insensitive), else a stage
 * index, else an image reference.
 */
export function resolveBuildSource(dockerfile: Dockerfile, from: string, current: number): BuildSourceRef {
  const lower = from.toLowerCase();
  const named = dockerfile.stages.filter((s) => s.name === lower);
  if (named.length > 0) {
    const before = named.filter((s) => s.index < current);
    return { kind: 'stage', index: (before.length > 0 ? before[before.length - 1] : named[0]).index };
  }
  if (/^\d+$/.test(from)) {
    const index = Number(from);
    if (index < dockerfile.stages.length) return { kind: 'stage', index };
  }
  return { kind: 'image', ref: from };
}

/** Every `--from` / `from=` a step reads. */
export function stepSources(step: DockerfileStep): string[] {
  if (step.keyword === 'COPY' && step.from !== undefined) return [step.from];
  if (step.keyword === 'RUN') return step.mounts.filter((m) => m.from !== undefined).map((m) => m.from!);
  return [];
}

/** Builds the graph for a target. Throws BUILD_TARGET_NOT_FOUND or DOCKERFILE_CIRCULAR_DEPENDENCY. */
export function createBuildGraph(dockerfile: Dockerfile, options: CreateBuildGraphOptions = {}): BuildGraph {
  const all = dockerfile.stages;
  let target = all.length - 1;
  if (options.target !== undefined) {
    const t = all.find((s) => s.name === options.target!.toLowerCase());
    if (!t) {
      const names = all.flatMap((s) => (s.name ? [s.name] : []));
      const guess = suggest(options.target, names);
      throw new HyprError(
        'BUILD_TARGET_NOT_FOUND',
        `target stage "${options.target}" could not be found${guess ? ` (did you mean ${guess}?)` : ''}`,
        names.length ? `stages are: ${names.join(', ')}` : 'name a stage with FROM IMAGE AS NAME',
      );
    }
    target = t.index;
  }

  const nodes = new Map<number, BuildGraphStage>();
  const describe = (stage: DockerfileStage): BuildGraphStage => {
    const deps = new Set<number>();
    const images = new Set<string>();
    if (stage.base.kind === 'stage') deps.add(stage.base.index);
    for (const step of stage.steps) {
      for (const from of stepSources(step)) {
        const ref = resolveBuildSource(dockerfile, from, stage.index);
        if (ref.kind === 'stage') {
          if (ref.index === stage.index) circular(dockerfile, stage, step.line);
          deps.add(ref.index);
        } else images.add(ref.ref);
      }
    }
    const node: BuildGraphStage = {
      index: stage.index,
      stage,
      dependencies: [...deps].sort((a, b) => a - b),
      images: [...images],
    };
    if (stage.name !== undefined) node.name = stage.name;
    return node;
  };

  // Depth-first from the target: collects reachable stages, detects cycles, orders them.
  const order: number[] = [];
  const state = new Map<number, 'visiting' | 'done'>();
  const visit = (index: number, via: number | undefined): void => {
    const s = state.get(index);
    if (s === 'done') return;
    if (s === 'visiting')
      circular(
        dockerfile,
        all[index],
        via === undefined ? all[index].from.line : lineOfEdge(all[via], index, dockerfile),
      );
    state.set(index, 'visiting');
    const node = describe(all[index]);
    nodes.set(index, node);
    for (const dep of node.dependencies) visit(dep, index);
    state.set(index, 'done');
    order.push(index);
  };
  visit(target, undefined);

  const depth = new Map<number, number>();
  for (const index of order) {
    const deps = nodes.get(index)!.dependencies;
    depth.set(index, deps.length === 0 ? 0 : Math.max(...deps.map((d) => depth.get(d)!)) + 1);
  }
  const levels: number[][] = [];
  for (const index of [...order].sort((a, b) => a - b)) {
    const d = depth.get(index)!;
    (levels[d] ??= []).push(index);
  }
  const sortedOrder = levels.flat();
  return { dockerfile, target, stages: nodes, order: sortedOrder, levels };
}

function lineOfEdge(stage: DockerfileStage, to: number, dockerfile: Dockerfile): number {
  if (stage.base.kind === 'stage' && stage.base.index === to) return stage.from.line;
  for (const step of stage.steps) {
    for (const from of stepSources(step)) {
      const ref = resolveBuildSource(dockerfile, from, stage.index);
      if (ref.kind === 'stage' && ref.index === to) return step.line;
    }
  }
  return stage.from.line;
}

function circular(dockerfile: Dockerfile, stage: DockerfileStage, line: number): never {
  throw new DockerfileError(
    'DOCKERFILE_CIRCULAR_DEPENDENCY',
    `circular dependency detected on stage: ${stage.name ?? stage.index}`,
    dockerfile.file,
    line,
    1,
    'a stage cannot read from itself or from a stage that reads from it',
  );
}
