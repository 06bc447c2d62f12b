import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DockerfileRunMount } from '../dockerfile/index.js';
import { assembleImage } from './assemble.js';
import type { BuildImageOptions, BuildImageResult } from './options.js';
import { resolveBuild } from './resolve.js';
import { runStage } from './run-stage.js';
import { runStages } from './schedule.js';
import { BuildSession } from './session.js';

export type {
  BuildImageOptions,
  BuildImageResult,
  BuildProgressEvent,
  BuildRunNetwork,
  BuildStepReport,
  BuildStepRunner,
} from './options.js';

/**
 * `docker build` on @hypr/core: Dockerfile + context → an OCI image in the store.
 *
 * Phases, in order (docs/build.md): resolve (resolve.ts: the Dockerfile and .dockerignore, base
 * images found or pulled, the graph for the target, the context hashed, every cache key); run each
 * stage once the stages it needs are built, independent ones in parallel, as many at once as the
 * host has cores (schedule.ts, run-stage.ts: each step cached, on the host or in a VM); assemble the image (assemble.ts: config, manifest, tags).
 */

/** Builds an image. Throws DockerfileError, BuildStepError or another HyprError. */
export async function buildImage(opts: BuildImageOptions): Promise<BuildImageResult> {
  const started = Date.now();
  const progress = opts.onProgress ?? (() => {});
  const resolved = await resolveBuild(opts, progress);
  const work = await mkdtemp(join(opts.workDir ?? tmpdir(), 'hypr-build-'));
  try {
    const s = new BuildSession(opts, resolved, work);
    await runStages(resolved.graph, opts.concurrency ?? availableParallelism(), (index) => runStage(s, index));
    const { digest, configDigest, image } = await assembleImage(s);
    return {
      imageDigest: digest,
      imageId: configDigest,
      image,
      tags: image.tags,
      steps: s.reports,
      cachedSteps: s.reports.filter((r) => r.cached).length,
      vmRuns: s.vmRuns,
      vmBoots: s.vmBoots,
      warnings: resolved.dockerfile.warnings,
      durationMs: Date.now() - started,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export type { DockerfileRunMount };
