import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Dockerfile, parseDockerfile } from '../dockerfile/index.js';
import { HyprError, SourceError } from '../errors.js';
import type { ImageRecord } from '../image/image-store.js';
import {
  type ImagePlatform as Platform,
  formatPlatform,
  hostPlatform,
  parsePlatform,
  platformMatches,
} from '../image/manifest.js';
import { pullImage } from '../image/pull.js';
import { parseImageRef } from '../registry/reference.js';
import { type BuildCacheKeys, computeBuildCacheKeys, readBuildContext } from './cache-key.js';
import { type BuildGraph, createBuildGraph } from './dag.js';
import { envMap } from './image-config.js';
import type { BuildImageOptions, BuildProgressEvent } from './options.js';
import { type SourceTree, createContextSourceTree } from './source-tree.js';

/**
 * The first phases of a build, before anything runs: the platform, the Dockerfile and
 * .dockerignore; a first parse to learn the base images, which are found or pulled; a second parse
 * with their environments; the graph for the target; the context, hashed; every cache key.
 */
export interface ResolvedBuild {
  host: Platform;
  /** `os/arch[/variant]` of the host, as the parser and the cache keys name it. */
  platform: string;
  /** The Dockerfile's name in messages. */
  fileName: string;
  /** The Dockerfile text (for error excerpts). */
  source: string;
  dockerfile: Dockerfile;
  graph: BuildGraph;
  /** Every image a stage starts from or copies from, by reference. */
  images: Map<string, ImageRecord>;
  keys: BuildCacheKeys;
  contextTree: SourceTree;
}

type Progress = (event: BuildProgressEvent) => void;

function checkPlatform(opts: BuildImageOptions, host: Platform): void {
  if (opts.platform !== undefined && !platformMatches(parsePlatform(opts.platform), host)) {
    throw new HyprError(
      'BUILD_PLATFORM_UNSUPPORTED',
      `cannot build for ${opts.platform} on this ${formatPlatform(host)} host`,
      `HYPR runs build steps in microVMs of the host's architecture; drop --platform or use ${formatPlatform(host)}`,
    );
  }
}

async function readDockerfileText(opts: BuildImageOptions, dockerfilePath: string): Promise<string> {
  if (opts.dockerfile !== undefined) return opts.dockerfile;
  try {
    return await readFile(dockerfilePath, 'utf8');
  } catch (e) {
    throw new HyprError(
      'BUILD_DOCKERFILE_NOT_FOUND',
      `failed to read dockerfile: open ${dockerfilePath}: no such file or directory`,
      'name it with -f, or put a Dockerfile in the context',
      { cause: e },
    );
  }
}

/** The Dockerfile's own `<name>.dockerignore` first, then the context's. */
async function readDockerignore(
  opts: BuildImageOptions,
  contextDir: string,
  dockerfilePath: string,
): Promise<string | undefined> {
  if (opts.dockerignore !== undefined) return opts.dockerignore;
  for (const candidate of [`${dockerfilePath}.dockerignore`, join(contextDir, '.dockerignore')]) {
    if (existsSync(candidate)) return readFile(candidate, 'utf8');
  }
  return undefined;
}

/** The images of the graph's stages (bases and --from), each checked for the platform. */
function referencedImages(graph: BuildGraph, host: Platform, fileName: string | undefined): string[] {
  const refs = new Set<string>();
  for (const s of graph.stages.values()) {
    if (s.stage.platform !== undefined && !platformMatches(parsePlatform(s.stage.platform), host)) {
      throw new SourceError(
        'BUILD_PLATFORM_UNSUPPORTED',
        `FROM --platform=${s.stage.platform} is not the host platform ${formatPlatform(host)}`,
        fileName,
        s.stage.from.line,
        1,
        'HYPR runs build steps in microVMs of the host architecture',
      );
    }
    if (s.stage.base.kind === 'image') refs.add(s.stage.base.ref);
    for (const i of s.images) refs.add(i);
  }
  return [...refs].sort();
}

async function findOrPullImages(
  opts: BuildImageOptions,
  refs: readonly string[],
  host: Platform,
  progress: Progress,
): Promise<Map<string, ImageRecord>> {
  const images = new Map<string, ImageRecord>();
  for (const ref of refs) {
    opts.signal?.throwIfAborted();
    let rec = opts.pull ? undefined : opts.store.findImage(ref);
    if (rec) progress({ type: 'pull', ref, status: 'local' });
    else {
      progress({ type: 'pull', ref, status: 'resolving' });
      try {
        parseImageRef(ref);
      } catch (e) {
        throw HyprError.from(e, 'BUILD_IMAGE_REFERENCE_INVALID');
      }
      rec = await pullImage(opts.store, ref, {
        ...opts.registry,
        platform: host,
        signal: opts.signal,
        logger: opts.logger,
      });
      progress({ type: 'pull', ref, status: 'pulled' });
    }
    images.set(ref, rec);
  }
  return images;
}

export async function resolveBuild(opts: BuildImageOptions, progress: Progress): Promise<ResolvedBuild> {
  const host = hostPlatform();
  checkPlatform(opts, host);
  const platform = `${host.os}/${host.architecture}${host.variant ? `/${host.variant}` : ''}`;
  const contextDir = resolve(opts.contextDir);
  const dockerfilePath = opts.dockerfilePath ?? join(contextDir, 'Dockerfile');
  const fileName = opts.dockerfilePath ? opts.dockerfilePath.split('/').pop()! : 'Dockerfile';
  const source = await readDockerfileText(opts, dockerfilePath);
  const dockerignore = await readDockerignore(opts, contextDir, dockerfilePath);
  const parseOpts = { file: fileName, buildArgs: opts.buildArgs ?? {}, platform };

  const first = createBuildGraph(parseDockerfile(source, parseOpts), { target: opts.target });
  const images = await findOrPullImages(opts, referencedImages(first, host, fileName), host, progress);
  const baseImageEnv = (ref: string) => {
    const rec = images.get(ref);
    return rec ? Object.fromEntries(envMap(rec.config.config?.Env)) : undefined;
  };

  const dockerfile = parseDockerfile(source, { ...parseOpts, baseImageEnv });
  for (const w of dockerfile.warnings) progress({ type: 'warning', warning: w });
  const graph = createBuildGraph(dockerfile, { target: opts.target });
  const contextFiles = await readBuildContext(contextDir, dockerignore === undefined ? {} : { dockerignore });
  const imageDigests = Object.fromEntries([...images].map(([ref, rec]) => [ref, rec.digest]));
  const keys = computeBuildCacheKeys(graph, { contextFiles, imageDigests, platform });
  const contextTree = createContextSourceTree(contextDir, contextFiles);
  return { host, platform, fileName, source, dockerfile, graph, images, keys, contextTree };
}
