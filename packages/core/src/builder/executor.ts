import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  type Dockerfile,
  type DockerfileRunMount,
  type DockerfileStep,
  type DockerfileWarning,
  PROXY_BUILD_ARGS,
  parseDockerfile,
} from '../dockerfile/index.js';
import { type ErrorCode, HyprError, SourceError } from '../errors.js';
import type { ImageRecord, ImageStore } from '../image/image-store.js';
import {
  type ImageConfig,
  type ImageDescriptor,
  MEDIA_TYPES,
  formatPlatform,
  hostPlatform,
  parsePlatform,
  platformMatches,
} from '../image/manifest.js';
import { type RegistryAccessOptions, pullImage, runPool } from '../image/pull.js';
import { sha256Digest } from '../image/store.js';
import { LayerUnpacker } from '../image/unpack.js';
import { type Logger, silentLogger } from '../log.js';
import { parseImageRef } from '../registry/reference.js';
import type { GuestMount } from '../vmm/guest-vm.js';
import { lookupBuildCache, recordBuildCache } from './build-cache.js';
import { type BuildCacheKeys, type ContextFile, computeBuildCacheKeys, readBuildContext } from './cache-key.js';
import { writeCopyLayer } from './copy.js';
import { type BuildGraph, createBuildGraph, resolveBuildSource } from './dag.js';
import {
  type BuildRuntimeConfig,
  type HistoryEntry,
  applyConfigStep,
  commandArgv,
  envList,
  envMap,
  epochTimestamp,
  historyCreatedBy,
} from './image-config.js';
import { type BuiltLayer, LayerTarWriter, isEmptyLayerTar, normalizeLayerTar, storeLayerTar } from './layers.js';
import { type SourceTree, createContextSourceTree, createDirSourceTree, pathParts } from './source-tree.js';
import { BuildStepError } from './step-error.js';
import { type BuildStepCommand, type BuildStepResult, type RunBuildStepOptions, runBuildStep } from './step-vm.js';

/**
 * `docker build` on @hypr/core: Dockerfile + context → an OCI image in the store.
 *
 * Phases, in order (docs/build.md): read the Dockerfile and .dockerignore; parse once to learn the
 * base images; find or pull them; parse again with their environments; make the graph for the
 * target; hash the context; compute every cache key; run the stages level by level (stages of a
 * level in parallel, bounded); write the final config and manifest; tag.
 *
 * Per stage the executor keeps a list of layers and, only when a step must really run, a host
 * directory with those layers unpacked (whiteouts applied): that tree is the root of the next
 * RUN's microVM and the source of COPY --from. A step whose key is in the cache reuses its layer
 * blob; a fully cached build unpacks nothing and boots no VM.
 */

export type BuildStepRunner = (opts: RunBuildStepOptions) => Promise<BuildStepResult>;

export type BuildProgressEvent =
  | {
      type: 'step';
      /** BuildKit's vertex number, from 1 in execution order. */
      id: number;
      /** `[stage-0 2/5] RUN make` */
      name: string;
      stage: number;
      step: number;
      status: 'running' | 'cached' | 'done' | 'error';
      durationMs?: number;
    }
  | { type: 'log'; id: number; stream: 'stdout' | 'stderr'; data: Buffer }
  | { type: 'pull'; ref: string; status: 'resolving' | 'pulled' | 'local' }
  | { type: 'warning'; warning: DockerfileWarning };

export interface BuildImageOptions {
  /** The build context: a directory the caller may read (the daemon unpacks the streamed context here). */
  contextDir: string;
  /** The Dockerfile text; when absent it is read from `dockerfilePath`. */
  dockerfile?: string;
  /** Default `<contextDir>/Dockerfile`. Also picks `<dockerfilePath>.dockerignore` when it exists. */
  dockerfilePath?: string;
  /** .dockerignore text; when absent read from the context (or next to the Dockerfile). */
  dockerignore?: string;
  /** `-t`, several allowed. */
  tags?: readonly string[];
  buildArgs?: Readonly<Record<string, string>>;
  /** `--target`: a stage name. */
  target?: string;
  /** `--no-cache`: run every step (the cache is still written). */
  noCache?: boolean;
  /** `--pull`: pull base images even when they are in the store. */
  pull?: boolean;
  /** `--label`: added to the final image's labels. */
  labels?: Readonly<Record<string, string>>;
  /** `--secret id=…,src=…`: id → host file. Mounted for RUN --mount=type=secret, never stored. */
  secrets?: Readonly<Record<string, string>>;
  store: ImageStore;
  /** `--platform`: only the host's is supported. */
  platform?: string;
  /** Clamp for mtimes and the `created` time (SOURCE_DATE_EPOCH). Default 0. */
  sourceDateEpoch?: number;
  /** Stages built at once. Default 2. */
  concurrency?: number;
  registry?: RegistryAccessOptions;
  /** Where stage trees and temporary layers go. Default the OS temp dir. */
  workDir?: string;
  /** Persistent dirs of RUN --mount=type=cache. Default `<store.root>/build-mounts`. */
  cacheMountsDir?: string;
  cpus?: number;
  memoryMiB?: number;
  stepTimeoutMs?: number;
  logger?: Logger;
  signal?: AbortSignal;
  onProgress?: (event: BuildProgressEvent) => void;
  /** Runs RUN steps; default runBuildStep (a microVM). Tests count or replace it. */
  runStep?: BuildStepRunner;
}

export interface BuildStepReport {
  name: string;
  stage: number;
  step: number;
  keyword: string;
  cached: boolean;
  /** Digest of the layer the step produced (undefined: no layer). */
  layer?: string;
  durationMs: number;
}

export interface BuildImageResult {
  /** Manifest digest (what `name@sha256:…` pins). */
  imageDigest: string;
  /** Config digest: docker's image ID, stable across identical builds. */
  imageId: string;
  image: ImageRecord;
  tags: string[];
  steps: BuildStepReport[];
  cachedSteps: number;
  /** RUN steps that booted a VM. */
  vmRuns: number;
  warnings: DockerfileWarning[];
  durationMs: number;
}

interface LayerRef extends BuiltLayer {}

interface StageState {
  index: number;
  label: string;
  config: BuildRuntimeConfig;
  cmdSet: boolean;
  layers: LayerRef[];
  history: HistoryEntry[];
  /** The unpacked tree, when made, and how many of `layers` it holds. */
  dir?: string;
  applied: number;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function cloneConfig(c: BuildRuntimeConfig | undefined): BuildRuntimeConfig {
  return JSON.parse(JSON.stringify(c ?? {})) as BuildRuntimeConfig;
}

function oneLine(text: string): string {
  return text
    .replace(/\\\r?\n\s*/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Builds an image. Throws DockerfileError, BuildStepError or another HyprError. */
export async function buildImage(opts: BuildImageOptions): Promise<BuildImageResult> {
  const started = Date.now();
  const store = opts.store;
  const log = (opts.logger ?? silentLogger).child({ op: 'build' });
  const signal = opts.signal;
  const runStep = opts.runStep ?? runBuildStep;
  const epoch = opts.sourceDateEpoch ?? 0;
  const progress = opts.onProgress ?? (() => {});

  // Phase 1: the platform, the Dockerfile and .dockerignore.
  const host = hostPlatform();
  if (opts.platform !== undefined && !platformMatches(parsePlatform(opts.platform), host)) {
    throw new HyprError(
      'BUILD_PLATFORM_UNSUPPORTED',
      `cannot build for ${opts.platform} on this ${formatPlatform(host)} host`,
      `HYPR runs build steps in microVMs of the host's architecture; drop --platform or use ${formatPlatform(host)}`,
    );
  }
  const platform = `${host.os}/${host.architecture}${host.variant ? `/${host.variant}` : ''}`;
  const contextDir = resolve(opts.contextDir);
  const dockerfilePath = opts.dockerfilePath ?? join(contextDir, 'Dockerfile');
  const fileName = opts.dockerfilePath ? opts.dockerfilePath.split('/').pop() : 'Dockerfile';
  let source = opts.dockerfile;
  if (source === undefined) {
    try {
      source = await readFile(dockerfilePath, 'utf8');
    } catch (e) {
      throw new HyprError(
        'BUILD_DOCKERFILE_NOT_FOUND',
        `failed to read dockerfile: open ${dockerfilePath}: no such file or directory`,
        'name it with -f, or put a Dockerfile in the context',
        { cause: e },
      );
    }
  }
  let dockerignore = opts.dockerignore;
  if (dockerignore === undefined) {
    for (const candidate of [`${dockerfilePath}.dockerignore`, join(contextDir, '.dockerignore')]) {
      if (existsSync(candidate)) {
        dockerignore = await readFile(candidate, 'utf8');
        break;
      }
    }
  }
  const buildArgs = opts.buildArgs ?? {};
  const parseOpts = { file: fileName, buildArgs, platform };

  // Phase 2: parse once to learn the images, then find or pull them.
  const first = createBuildGraph(parseDockerfile(source, parseOpts), { target: opts.target });
  const refs = new Set<string>();
  for (const s of first.stages.values()) {
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
  const images = new Map<string, ImageRecord>();
  for (const ref of [...refs].sort()) {
    signal?.throwIfAborted();
    let rec = opts.pull ? undefined : store.findImage(ref);
    if (rec) progress({ type: 'pull', ref, status: 'local' });
    else {
      progress({ type: 'pull', ref, status: 'resolving' });
      try {
        parseImageRef(ref);
      } catch (e) {
        throw HyprError.from(e, 'BUILD_IMAGE_REFERENCE_INVALID');
      }
      rec = await pullImage(store, ref, { ...opts.registry, platform: host, signal, logger: opts.logger });
      progress({ type: 'pull', ref, status: 'pulled' });
    }
    images.set(ref, rec);
  }
  const baseImageEnv = (ref: string) => {
    const rec = images.get(ref);
    return rec ? Object.fromEntries(envMap(rec.config.config?.Env)) : undefined;
  };

  // Phase 3: parse with the base images' environments; graph, context and cache keys.
  const dockerfile: Dockerfile = parseDockerfile(source, { ...parseOpts, baseImageEnv });
  for (const w of dockerfile.warnings) progress({ type: 'warning', warning: w });
  const graph: BuildGraph = createBuildGraph(dockerfile, { target: opts.target });
  const contextFiles: ContextFile[] = await readBuildContext(
    contextDir,
    dockerignore === undefined ? {} : { dockerignore },
  );
  const imageDigests = Object.fromEntries([...images].map(([ref, rec]) => [ref, rec.digest]));
  const keys: BuildCacheKeys = computeBuildCacheKeys(graph, { contextFiles, imageDigests, platform });
  const contextTree = createContextSourceTree(contextDir, contextFiles);

  const work = await mkdtemp(join(opts.workDir ?? tmpdir(), 'hypr-build-'));
  const cacheMountsDir = opts.cacheMountsDir ?? join(store.root, 'build-mounts');
  const states = new Map<number, StageState>();
  const imageTrees = new Map<string, Promise<string>>();
  const reports: BuildStepReport[] = [];
  let vertex = 0;
  let vmRuns = 0;
  const single = dockerfile.stages.length === 1;

  const stageLabel = (index: number) => {
    const st = dockerfile.stages[index];
    if (st.name) return st.name;
    return single ? '' : `stage-${index}`;
  };

  /** Brings a stage's tree up to date with its layers (unpacking only what it lacks); one at a time per stage. */
  const locks = new Map<StageState, Promise<unknown>>();
  const materialize = (st: StageState): Promise<string> => {
    const next = (locks.get(st) ?? Promise.resolve()).catch(() => {}).then(() => materializeNow(st));
    locks.set(st, next);
    return next;
  };
  const materializeNow = async (st: StageState): Promise<string> => {
    if (!st.dir) {
      st.dir = await mkdtemp(join(work, `stage-${st.index}-`));
      st.applied = 0;
    }
    for (; st.applied < st.layers.length; st.applied++) {
      signal?.throwIfAborted();
      const l = st.layers[st.applied];
      await new LayerUnpacker(st.dir, { diffId: l.diffId, signal, logger: opts.logger }).unpackLayer(
        store.blobs.openBlob(l.digest),
      );
    }
    return st.dir;
  };

  const imageTree = (ref: string): Promise<string> => {
    let p = imageTrees.get(ref);
    if (!p) {
      p = (async () => {
        const rec = images.get(ref)!;
        const dir = await mkdtemp(join(work, 'image-'));
        for (const [i, l] of rec.layers.entries()) {
          await new LayerUnpacker(dir, { diffId: rec.config.rootfs.diff_ids[i], signal }).unpackLayer(
            store.blobs.openBlob(l.digest),
          );
        }
        return dir;
      })();
      imageTrees.set(ref, p);
    }
    return p;
  };

  /** Where `--from` / `from=` reads, as a tree. */
  const fromTree = async (from: string, current: number): Promise<SourceTree> => {
    const ref = resolveBuildSource(dockerfile, from, current);
    if (ref.kind === 'stage') return createDirSourceTree(await materialize(states.get(ref.index)!));
    return createDirSourceTree(await imageTree(ref.ref));
  };

  const initialState = (index: number): StageState => {
    const stage = dockerfile.stages[index];
    const label = stageLabel(index);
    if (stage.base.kind === 'stage') {
      const parent = states.get(stage.base.index)!;
      return {
        index,
        label,
        config: cloneConfig(parent.config),
        cmdSet: false,
        layers: [...parent.layers],
        history: [...parent.history],
        applied: 0,
      };
    }
    if (stage.base.kind === 'scratch')
      return { index, label, config: {}, cmdSet: false, layers: [], history: [], applied: 0 };
    const rec = images.get(stage.base.ref)!;
    const config = cloneConfig(rec.config.config as BuildRuntimeConfig);
    if (config.OnBuild && config.OnBuild.length > 0) {
      // Triggers are consumed by the child build; HYPR does not run them yet, and says so.
      progress({
        type: 'warning',
        warning: {
          rule: 'OnBuildNotRun',
          message: `the ONBUILD triggers of ${stage.base.ref} were not run: ${config.OnBuild.join('; ')}`,
          file: fileName,
          line: stage.from.line,
          url: 'https://docs.docker.com/reference/dockerfile/#onbuild',
        },
      });
    }
    config.OnBuild = null;
    return {
      index,
      label,
      config,
      cmdSet: false,
      layers: rec.layers.map((l: ImageDescriptor, i) => ({
        digest: l.digest,
        diffId: rec.config.rootfs.diff_ids[i],
        sizeBytes: l.size,
        mediaType: l.mediaType,
      })),
      history: [...(rec.config.history ?? [])],
      applied: 0,
    };
  };

  /** Adds a layer a step produced (or reused) to the stage; keeps the tree in step when `appliedFrom` is given. */
  const pushLayer = (st: StageState, layer: BuiltLayer | null, createdBy: string, applied: boolean) => {
    if (layer) {
      const inSync = st.dir !== undefined && st.applied === st.layers.length;
      st.layers.push(layer);
      if (applied && inSync) st.applied = st.layers.length;
    }
    st.history.push({
      created: epochTimestamp(epoch),
      created_by: createdBy,
      comment: 'buildkit.dockerfile.v0',
      ...(layer ? {} : { empty_layer: true }),
    });
  };

  /** The environment a RUN sees: the image's Env, then ARGs not shadowed by it, proxies, PATH. */
  const runEnv = (st: StageState, step: DockerfileStep): string[] => {
    const env = envMap(st.config.Env);
    for (const [k, v] of Object.entries(step.scope.args)) if (!env.has(k)) env.set(k, v);
    for (const p of PROXY_BUILD_ARGS) if (buildArgs[p] !== undefined && !env.has(p)) env.set(p, buildArgs[p]);
    if (!env.has('PATH')) env.set('PATH', DEFAULT_PATH);
    return envList(env);
  };

  /** RUN's argv: exec form as is; shell form through SHELL, heredocs appended as the shell reads them. */
  const runArgv = (step: DockerfileStep & { keyword: 'RUN' }): string[] => {
    const shell = step.scope.shell;
    if (step.command.form === 'exec') return [...step.command.argv];
    const script = step.command.script;
    if (step.heredocs.length === 1 && /^\s*\d*<<-?\s*["']?[^\s"']+["']?\s*$/.test(script)) {
      // `RUN <<EOF … EOF` alone: the heredoc is the script (BuildKit).
      return [...shell, step.heredocs[0].content];
    }
    if (step.heredocs.length === 0) return [...shell, script];
    const body = step.heredocs.map((h) => `${h.content}${h.content.endsWith('\n') ? '' : '\n'}${h.name}\n`).join('');
    return [...shell, `${script}\n${body}`];
  };

  const runMounts = async (
    st: StageState,
    step: DockerfileStep & { keyword: 'RUN' },
    stepDir: string,
    env: string[],
  ): Promise<GuestMount[]> => {
    const mounts: GuestMount[] = [];
    const secretsDir = join(stepDir, 'secrets');
    let secretsShared = false;
    const fail = (code: ErrorCode, message: string, hint?: string): never => {
      throw new SourceError(code, message, fileName, step.line, step.column, hint);
    };
    for (const [i, m] of step.mounts.entries()) {
      const target = m.target && !m.target.startsWith('/') ? `${st.config.WorkingDir || '/'}/${m.target}` : m.target;
      switch (m.type) {
        case 'tmpfs':
          mounts.push({ type: 'tmpfs', target: target!, ...(m.sizeBytes ? { options: `size=${m.sizeBytes}` } : {}) });
          break;
        case 'cache': {
          if (m.from !== undefined) fail('BUILD_MOUNT_UNSUPPORTED', 'RUN --mount=type=cache,from=… is not supported');
          const id = m.id ?? target!;
          const dir = join(cacheMountsDir, createHash('sha256').update(id).digest('hex').slice(0, 32));
          await mkdir(dir, { recursive: true });
          mounts.push({ type: 'share', hostPath: dir, target: target! });
          break;
        }
        case 'bind': {
          // A private copy: writes are thrown away, as docker does, and ignored files never reach the VM.
          const copy = join(stepDir, `bind-${i}`);
          await mkdir(copy, { recursive: true });
          const tree = m.from === undefined ? contextTree : await fromTree(m.from, st.index);
          await copyTreeTo(tree, pathParts(m.source ?? '.').join('/'), copy);
          mounts.push({ type: 'share', hostPath: copy, target: target!, readOnly: m.readOnly });
          break;
        }
        case 'secret': {
          const id = m.id ?? (m.target ? m.target.split('/').pop()! : undefined);
          if (!id) fail('BUILD_SECRET_INVALID', 'RUN --mount=type=secret needs an id or a target');
          const src = opts.secrets?.[id!];
          if (src === undefined) {
            if (m.required) fail('BUILD_SECRET_MISSING', `secret ${id} not found`, `pass --secret id=${id},src=FILE`);
            break;
          }
          const data = await readFile(src);
          if (m.env !== undefined) {
            env.push(`${m.env}=${data.toString('utf8')}`);
            if (m.target === undefined) break;
          }
          const secretTarget = m.target ?? `/run/secrets/${id}`;
          if (dirname(secretTarget) !== '/run/secrets') {
            fail(
              'BUILD_MOUNT_UNSUPPORTED',
              `secret target ${secretTarget}: only targets in /run/secrets are supported`,
              `read the secret from /run/secrets/${id}, or use env=NAME`,
            );
          }
          await mkdir(secretsDir, { recursive: true });
          await writeFile(join(secretsDir, secretTarget.split('/').pop()!), data, { mode: m.mode ?? 0o400 });
          if (!secretsShared) {
            mounts.push({ type: 'share', hostPath: secretsDir, target: '/run/secrets', readOnly: true });
            secretsShared = true;
          }
          break;
        }
        case 'ssh':
          fail(
            'BUILD_MOUNT_UNSUPPORTED',
            'RUN --mount=type=ssh is not supported',
            'copy a deploy key in with a secret mount',
          );
      }
    }
    return mounts;
  };

  /** Runs one stage, step by step. */
  const runStage = async (index: number): Promise<void> => {
    const stage = dockerfile.stages[index];
    const st = initialState(index);
    states.set(index, st);
    const stepKeys = keys.steps.get(index)!;
    const total = stage.steps.length + 1;
    const prefix = (n: number) => `[${st.label ? `${st.label} ` : ''}${n}/${total}]`;
    {
      const id = ++vertex;
      const name = `${prefix(1)} FROM ${stage.base.kind === 'image' ? stage.base.ref : stage.from.image}`;
      progress({ type: 'step', id, name, stage: index, step: 0, status: 'done', durationMs: 0 });
    }
    for (const [i, step] of stage.steps.entries()) {
      signal?.throwIfAborted();
      const t0 = Date.now();
      const name = `${prefix(i + 2)} ${oneLine(step.original)}`;
      if (step.keyword === 'ARG') continue;
      if (step.keyword !== 'WORKDIR' && applyConfigStep(st.config, step, st)) {
        pushLayer(st, null, historyCreatedBy(step), false);
        continue;
      }
      const id = ++vertex;
      const key = stepKeys[i].key;
      const report = (cached: boolean, layer: BuiltLayer | null) => {
        const durationMs = Date.now() - t0;
        reports.push({
          name,
          stage: index,
          step: i,
          keyword: step.keyword,
          cached,
          ...(layer ? { layer: layer.digest } : {}),
          durationMs,
        });
        progress({ type: 'step', id, name, stage: index, step: i, status: cached ? 'cached' : 'done', durationMs });
      };
      if (step.keyword === 'WORKDIR') applyConfigStep(st.config, step, st);
      const argv = step.keyword === 'RUN' ? runArgv(step) : undefined;
      const createdBy = historyCreatedBy(step, argv);

      if (!opts.noCache) {
        const hit = await lookupBuildCache(store, key);
        if (hit) {
          pushLayer(st, hit.layer, createdBy, false);
          report(true, hit.layer);
          continue;
        }
      }
      progress({ type: 'step', id, name, stage: index, step: i, status: 'running' });
      const stepDir = await mkdtemp(join(work, 'step-'));
      try {
        let layer: BuiltLayer | null = null;
        const root = await materialize(st);
        const tarPath = join(stepDir, 'layer.tar');
        if (step.keyword === 'WORKDIR') {
          const wd = st.config.WorkingDir || '/';
          const tree = createDirSourceTree(root);
          if (tree.resolve(wd) === undefined || tree.stat(tree.resolve(wd)!)?.type !== 'dir') {
            const w = await LayerTarWriter.create(tarPath);
            const parts = pathParts(wd);
            for (let k = 1; k <= parts.length; k++) {
              const p = parts.slice(0, k).join('/');
              if (tree.stat(p)) continue;
              await w.add({ path: p, type: 'directory', mode: 0o755, mtime: 0 });
            }
            await w.close();
            layer = w.entries > 0 ? await storeLayerTar(store, tarPath, signal) : null;
          }
        } else if (step.keyword === 'COPY' || step.keyword === 'ADD') {
          const from = step.keyword === 'COPY' ? step.from : undefined;
          const tree = from === undefined ? contextTree : await fromTree(from, index);
          const w = await LayerTarWriter.create(tarPath);
          try {
            await writeCopyLayer({
              step,
              source: tree,
              stageRoot: root,
              workdir: st.config.WorkingDir || '/',
              sourceDateEpoch: epoch,
              file: fileName,
              writer: w,
            });
            await w.close();
          } catch (e) {
            await w.abort();
            throw e;
          }
          layer = w.entries > 0 ? await storeLayerTar(store, tarPath, signal) : null;
        } else if (step.keyword === 'RUN') {
          const env = runEnv(st, step);
          const mounts = await runMounts(st, step, stepDir, env);
          const command: BuildStepCommand = { kind: 'run', argv: argv!, env };
          if (st.config.WorkingDir) command.workdir = st.config.WorkingDir;
          if (st.config.User) command.user = st.config.User;
          vmRuns++;
          const r = await runStep({
            rootfsDir: root,
            commands: [command],
            mounts,
            cpus: opts.cpus,
            memoryMiB: opts.memoryMiB,
            signal,
            timeoutMs: opts.stepTimeoutMs,
            logger: opts.logger,
            onStdout: (data) => progress({ type: 'log', id, stream: 'stdout', data }),
            onStderr: (data) => progress({ type: 'log', id, stream: 'stderr', data }),
          });
          try {
            if (r.failed || !r.layerTarPath) {
              const failed = r.failed ?? { index: 0, exitCode: -1, outputTail: '' };
              progress({ type: 'step', id, name, stage: index, step: i, status: 'error', durationMs: Date.now() - t0 });
              throw new BuildStepError(
                name,
                argv!.join(' '),
                failed.exitCode,
                failed.outputTail,
                fileName,
                step.line,
                source,
              );
            }
            if (!(await isEmptyLayerTar(r.layerTarPath))) {
              await normalizeLayerTar(r.layerTarPath, tarPath, epoch);
              layer = await storeLayerTar(store, tarPath, signal);
            }
          } finally {
            await r.cleanup();
          }
        } else {
          throw new HyprError('BUILD_INTERNAL', `no executor for ${step.keyword}`);
        }
        // The tree follows the new layer at once, from the plain tar (no gunzip).
        if (layer) {
          await new LayerUnpacker(root, { signal }).unpackLayer(createReadStream(tarPath));
        }
        pushLayer(st, layer, createdBy, true);
        recordBuildCache(store, key, layer);
        report(false, layer);
        log.debug({ step: name, layer: layer?.digest, ms: Date.now() - t0 }, 'step done');
      } finally {
        await rm(stepDir, { recursive: true, force: true });
      }
    }
  };

  try {
    // Phase 4: stages level by level; a level's stages in parallel.
    const concurrency = Math.max(1, opts.concurrency ?? 2);
    for (const level of graph.levels) {
      await runPool(level, concurrency, runStage);
    }

    // Phase 5: the image.
    const final = states.get(graph.target)!;
    const config: BuildRuntimeConfig = cloneConfig(final.config);
    if (opts.labels && Object.keys(opts.labels).length > 0)
      config.Labels = { ...(config.Labels ?? {}), ...opts.labels };
    const imageConfig: ImageConfig = {
      created: epochTimestamp(epoch),
      architecture: host.architecture,
      os: host.os,
      ...(host.variant ? { variant: host.variant } : {}),
      config,
      rootfs: { type: 'layers', diff_ids: final.layers.map((l) => l.diffId) },
      history: final.history,
    } as ImageConfig;
    const configBytes = Buffer.from(JSON.stringify(imageConfig));
    const { digest: configDigest } = await store.blobs.writeBlob(configBytes);
    const manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, digest: configDigest, size: configBytes.length },
      layers: final.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.sizeBytes })),
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const { digest } = await store.blobs.writeBlob(manifestBytes);
    const names = (opts.tags ?? []).map((t) => parseImageRef(t));
    const image = store.addImage(
      {
        digest,
        mediaType: MEDIA_TYPES.ociManifest,
        configDigest,
        config: imageConfig,
        layers: manifest.layers,
        source: 'build',
      },
      names,
    );
    if (sha256Digest(manifestBytes) !== digest) throw new HyprError('BUILD_INTERNAL', 'manifest digest mismatch');
    return {
      imageDigest: digest,
      imageId: configDigest,
      image,
      tags: image.tags,
      steps: reports,
      cachedSteps: reports.filter((r) => r.cached).length,
      vmRuns,
      warnings: dockerfile.warnings,
      durationMs: Date.now() - started,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Copies `path` of a tree (a file or a directory's contents) into a host directory. */
async function copyTreeTo(tree: SourceTree, path: string, to: string): Promise<void> {
  const st = tree.stat(path);
  if (path !== '' && !st) return;
  if (path !== '' && st!.type !== 'dir') {
    await cp(st!.hostPath, join(to, path.split('/').pop()!), { dereference: false });
    return;
  }
  const walk = async (dir: string, out: string) => {
    for (const name of tree.list(dir)) {
      const from = dir === '' ? name : `${dir}/${name}`;
      const e = tree.stat(from);
      if (!e) continue;
      const dst = join(out, name);
      if (e.type === 'dir') {
        await mkdir(dst, { recursive: true, mode: e.mode });
        await walk(from, dst);
      } else if (e.type === 'file' || e.type === 'symlink') {
        await cp(e.hostPath, dst, { dereference: false, preserveTimestamps: true });
      }
    }
  };
  await walk(path, to);
}

export type { DockerfileRunMount };
