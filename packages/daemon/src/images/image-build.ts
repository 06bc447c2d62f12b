/**
 * `hypr build` in hyprd: the streamed context unpacked into a private directory, the secrets the
 * CLI read written beside it (0600, never stored), core's buildImage run with the daemon's store,
 * registry access and RUN network, and the work directory removed afterwards whatever happened.
 * The image is tagged in the store, so `hypr images`, `run` and `push` see it at once.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HyprError, type Logger } from '@hypr/core';
import { type BuildImageOptions, type BuildImageResult, type BuildProgressEvent, buildImage } from '@hypr/core/builder';
import type { BuildEndpoint } from '../networks/index.js';
import { readContextFile, receiveContext } from './build-context.js';
import { exportImageTar } from './build-export.js';
import type { ImageManager } from './images.js';

/** What the CLI asked for, decoded from BuildOptions. */
export interface BuildRequestOptions {
  /** The Dockerfile's text; absent: `dockerfileName` inside the context. */
  dockerfile?: string;
  dockerfileName: string;
  /** .dockerignore text; absent: the context's own (a tar from stdin). */
  dockerignore?: string;
  tags: string[];
  buildArgs: Record<string, string>;
  target?: string;
  noCache: boolean;
  noCacheFilter: string[];
  pull: boolean;
  labels: Record<string, string>;
  secrets: { id: string; value: Uint8Array }[];
  network: 'default' | 'none';
  /** RUN's step runner; absent: the daemon's default (daemon.json "builder"). */
  builder?: 'vm' | 'native';
  platform?: string;
  /** `tar`: the final stage's filesystem is streamed back after the result. */
  export?: 'tar';
}

export interface BuildHooks {
  signal?: AbortSignal;
  onContext?: (receivedBytes: number, done: boolean) => void;
  onProgress?: (event: BuildProgressEvent) => void;
}

export interface BuildOutcome extends BuildImageResult {
  /** With `export: 'tar'`: the final stage's files as tar chunks; reading it to the end cleans up. */
  exportTar?: AsyncIterable<Uint8Array>;
}

/** The parts of the network manager a build uses. */
export interface BuildNetworks {
  attachBuild(signal?: AbortSignal): Promise<BuildEndpoint | undefined>;
  readonly enabled: boolean;
}

export class ImageBuilder {
  constructor(
    private readonly images: ImageManager,
    private readonly networks: BuildNetworks | undefined,
    /** Private to hyprd (0700): contexts, secrets, stage trees. */
    private readonly workRoot: string,
    private readonly logger: Logger,
    /** daemon.json "builder": the step runner of builds that do not name one. */
    private readonly defaultBuilder: 'vm' | 'native' = 'vm',
  ) {}

  /** Removes what builds of a previous hyprd left (a crash mid-build). */
  async sweep(): Promise<void> {
    await rm(this.workRoot, { recursive: true, force: true });
    await mkdir(this.workRoot, { recursive: true, mode: 0o700 });
  }

  async build(
    opts: BuildRequestOptions,
    context: AsyncIterable<Uint8Array>,
    hooks: BuildHooks = {},
  ): Promise<BuildOutcome> {
    await mkdir(this.workRoot, { recursive: true, mode: 0o700 });
    const work = await mkdtemp(join(this.workRoot, 'build-'));
    let keep = false;
    try {
      const contextDir = join(work, 'context');
      await mkdir(contextDir);
      const bytes = await receiveContext(context, contextDir, {
        signal: hooks.signal,
        logger: this.logger,
        onBytes: (n) => hooks.onContext?.(n, false),
      });
      hooks.onContext?.(bytes, true);
      const dockerfile = opts.dockerfile ?? (await readContextFile(contextDir, opts.dockerfileName, 'Dockerfile'));
      if (dockerfile === undefined)
        throw new HyprError(
          'BUILD_DOCKERFILE_NOT_FOUND',
          `failed to read dockerfile: open ${opts.dockerfileName}: no such file or directory`,
          'name it with -f, or put a Dockerfile in the context',
        );
      const dockerignore =
        opts.dockerignore ??
        (await readContextFile(contextDir, `${opts.dockerfileName}.dockerignore`, '.dockerignore')) ??
        (await readContextFile(contextDir, '.dockerignore', '.dockerignore')) ??
        '';
      const result = await buildImage({
        contextDir,
        dockerfile,
        dockerfilePath: join(contextDir, opts.dockerfileName),
        dockerignore,
        tags: opts.tags,
        buildArgs: opts.buildArgs,
        ...(opts.target ? { target: opts.target } : {}),
        noCache: opts.noCache,
        noCacheFilter: opts.noCacheFilter,
        pull: opts.pull,
        labels: opts.labels,
        secrets: await this.writeSecrets(work, opts.secrets),
        store: this.images.store,
        ...(opts.platform ? { platform: opts.platform } : {}),
        registry: this.images.access(),
        workDir: work,
        logger: this.logger,
        signal: hooks.signal,
        onProgress: hooks.onProgress,
        network: opts.network,
        builder: opts.builder ?? this.defaultBuilder,
        ...(opts.network !== 'none' ? this.runNetwork() : {}),
      });
      this.logger.info(
        { image: result.imageId, tags: result.tags, steps: result.steps.length, cached: result.cachedSteps },
        'image built',
      );
      if (opts.export !== 'tar') {
        // Ready at first run, as pulled and loaded images are.
        await this.images.prepareDisk(result.image);
        return result;
      }
      keep = true;
      return { ...result, exportTar: exportImageTar(this.images.store, result.image, work, hooks.signal) };
    } finally {
      if (!keep) await rm(work, { recursive: true, force: true });
    }
  }

  /** RUN's network: a NIC on the default network per build VM, when hyprd has one. */
  private runNetwork(): Partial<Pick<BuildImageOptions, 'runNetwork'>> {
    const networks = this.networks;
    if (!networks?.enabled) return {};
    return {
      runNetwork: async ({ signal }) => {
        const e = await networks.attachBuild(signal);
        // No default network ("bridge": "none"): the VM boots without a NIC, as RUN --network=none.
        return e ?? { nics: [], dns: [], release: async () => {} };
      },
    };
  }

  private async writeSecrets(
    work: string,
    secrets: readonly { id: string; value: Uint8Array }[],
  ): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    if (!secrets.length) return out;
    const dir = join(work, 'secrets');
    await mkdir(dir, { mode: 0o700 });
    for (const [i, s] of secrets.entries()) {
      if (!s.id) throw new HyprError('BUILD_SECRET_INVALID', 'a --secret has no id', 'write --secret id=NAME,src=FILE');
      const file = join(dir, String(i));
      await writeFile(file, s.value, { mode: 0o600 });
      out[s.id] = file;
    }
    return out;
  }
}
