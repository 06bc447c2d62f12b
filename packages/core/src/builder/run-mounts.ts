import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DockerfileRunMount, DockerfileStep } from '../dockerfile/index.js';
import { type ErrorCode, SourceError } from '../errors.js';
import type { GuestMount } from '../vmm/guest-vm.js';
import { type SourceTree, pathParts } from './source-tree.js';

/**
 * RUN --mount, made ready on the host: a cache mount is a persistent directory per id, a bind
 * mount a private copy of the context or of a stage (writes are thrown away, as docker does, and
 * ignored files never reach the VM), a secret a file in a per-step directory shared read-only at
 * /run/secrets (or an environment variable), a tmpfs is left to the guest.
 */

export type RunStep = DockerfileStep & { keyword: 'RUN' };

export interface RunMountsContext {
  fileName: string;
  /** Persistent dirs of type=cache mounts. */
  cacheMountsDir: string;
  contextTree: SourceTree;
  /** Where `from=` reads (a stage or an image). */
  fromTree(from: string, current: number): Promise<SourceTree>;
  secrets?: Readonly<Record<string, string>>;
}

interface MountJob {
  ctx: RunMountsContext;
  step: RunStep;
  stage: number;
  stepDir: string;
  /** The RUN's environment; secret mounts with env= add to it. */
  env: string[];
  mounts: GuestMount[];
  secretsShared: boolean;
}

function fail(job: MountJob, code: ErrorCode, message: string, hint?: string): never {
  throw new SourceError(code, message, job.ctx.fileName, job.step.line, job.step.column, hint);
}

async function cacheMount(job: MountJob, m: DockerfileRunMount, target: string): Promise<void> {
  if (m.from !== undefined) fail(job, 'BUILD_MOUNT_UNSUPPORTED', 'RUN --mount=type=cache,from=… is not supported');
  const id = m.id ?? target;
  const dir = join(job.ctx.cacheMountsDir, createHash('sha256').update(id).digest('hex').slice(0, 32));
  await mkdir(dir, { recursive: true });
  job.mounts.push({ type: 'share', hostPath: dir, target });
}

async function bindMount(job: MountJob, m: DockerfileRunMount, target: string, i: number): Promise<void> {
  const copy = join(job.stepDir, `bind-${i}`);
  await mkdir(copy, { recursive: true });
  const tree = m.from === undefined ? job.ctx.contextTree : await job.ctx.fromTree(m.from, job.stage);
  await copyTreeTo(tree, pathParts(m.source ?? '.').join('/'), copy);
  job.mounts.push({ type: 'share', hostPath: copy, target, readOnly: m.readOnly });
}

async function secretMount(job: MountJob, m: DockerfileRunMount): Promise<void> {
  const id = m.id ?? (m.target ? m.target.split('/').pop()! : undefined);
  if (!id) fail(job, 'BUILD_SECRET_INVALID', 'RUN --mount=type=secret needs an id or a target');
  const src = job.ctx.secrets?.[id];
  if (src === undefined) {
    if (m.required) fail(job, 'BUILD_SECRET_MISSING', `secret ${id} not found`, `pass --secret id=${id},src=FILE`);
    return;
  }
  const data = await readFile(src);
  if (m.env !== undefined) {
    job.env.push(`${m.env}=${data.toString('utf8')}`);
    if (m.target === undefined) return;
  }
  const secretTarget = m.target ?? `/run/secrets/${id}`;
  if (dirname(secretTarget) !== '/run/secrets') {
    fail(
      job,
      'BUILD_MOUNT_UNSUPPORTED',
      `secret target ${secretTarget}: only targets in /run/secrets are supported`,
      `read the secret from /run/secrets/${id}, or use env=NAME`,
    );
  }
  const secretsDir = join(job.stepDir, 'secrets');
  await mkdir(secretsDir, { recursive: true });
  await writeFile(join(secretsDir, secretTarget.split('/').pop()!), data, { mode: m.mode ?? 0o400 });
  if (!job.secretsShared) {
    job.mounts.push({ type: 'share', hostPath: secretsDir, target: '/run/secrets', readOnly: true });
    job.secretsShared = true;
  }
}

/** The guest mounts of one RUN; `env` receives secrets mounted as variables. */
export async function prepareRunMounts(
  ctx: RunMountsContext,
  step: RunStep,
  stage: { index: number; workdir: string },
  stepDir: string,
  env: string[],
): Promise<GuestMount[]> {
  const job: MountJob = { ctx, step, stage: stage.index, stepDir, env, mounts: [], secretsShared: false };
  for (const [i, m] of step.mounts.entries()) {
    const target = m.target && !m.target.startsWith('/') ? `${stage.workdir}/${m.target}` : m.target;
    switch (m.type) {
      case 'tmpfs':
        job.mounts.push({ type: 'tmpfs', target: target!, ...(m.sizeBytes ? { options: `size=${m.sizeBytes}` } : {}) });
        break;
      case 'cache':
        await cacheMount(job, m, target!);
        break;
      case 'bind':
        await bindMount(job, m, target!, i);
        break;
      case 'secret':
        await secretMount(job, m);
        break;
      case 'ssh':
        fail(
          job,
          'BUILD_MOUNT_UNSUPPORTED',
          'RUN --mount=type=ssh is not supported',
          'copy a deploy key in with a secret mount',
        );
    }
  }
  return job.mounts;
}

/** Copies `path` of a tree (a file or a directory's contents) into a host directory. */
export async function copyTreeTo(tree: SourceTree, path: string, to: string): Promise<void> {
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
