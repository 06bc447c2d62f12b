import { PROXY_BUILD_ARGS } from '../dockerfile/index.js';
import { envList, envMap } from './image-config.js';
import { type BuiltLayer, isEmptyLayerTar, normalizeLayerTar, storeLayerTar } from './layers.js';
import { type RunStep, prepareRunMounts } from './run-mounts.js';
import type { BuildSession } from './session.js';
import type { StageState } from './stage-state.js';
import type { StepContext } from './step-context.js';
import { BuildStepError } from './step-error.js';
import type { BuildStepCommand } from './step-vm.js';

/**
 * RUN: its argv and environment as BuildKit makes them, its mounts, one VM through the step
 * runner, and the layer it left, normalised (sorted, mtimes clamped) so the same inputs give the
 * same layer.
 */

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The environment a RUN sees: the image's Env, then ARGs not shadowed by it, proxies, PATH. */
export function runEnv(buildArgs: Readonly<Record<string, string>>, st: StageState, step: RunStep): string[] {
  const env = envMap(st.config.Env);
  for (const [k, v] of Object.entries(step.scope.args)) if (!env.has(k)) env.set(k, v);
  for (const p of PROXY_BUILD_ARGS) if (buildArgs[p] !== undefined && !env.has(p)) env.set(p, buildArgs[p]);
  if (!env.has('PATH')) env.set('PATH', DEFAULT_PATH);
  return envList(env);
}

/** RUN's argv: exec form as is; shell form through SHELL, heredocs appended as the shell reads them. */
export function runArgv(step: RunStep): string[] {
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
}

/** The command a RUN step hands to Kestrel. */
export function runCommand(s: BuildSession, c: StepContext, env: string[]): BuildStepCommand {
  const command: BuildStepCommand = { kind: 'run', argv: c.argv!, env };
  if (c.st.config.WorkingDir) command.workdir = c.st.config.WorkingDir;
  if (c.st.config.User) command.user = c.st.config.User;
  return command;
}

/** The BuildKit-shaped error of a RUN that exited non-zero; reports the step as failed. */
export function runFailure(s: BuildSession, c: StepContext, exitCode: number, outputTail: string): BuildStepError {
  const durationMs = Date.now() - c.t0;
  s.progress({ type: 'step', id: c.id, name: c.name, stage: c.st.index, step: c.i, status: 'error', durationMs });
  return new BuildStepError(c.name, c.argv!.join(' '), exitCode, outputTail, s.r.fileName, c.step.line, s.r.source);
}

/** Normalises the layer a RUN left (none when it changed nothing) and stores it, written at `tarPath`. */
export async function storeRunLayer(s: BuildSession, layerTar: string, tarPath: string): Promise<BuiltLayer | null> {
  if (await isEmptyLayerTar(layerTar)) return null;
  await normalizeLayerTar(layerTar, tarPath, s.epoch);
  return storeLayerTar(s.store, tarPath, s.signal);
}

/** Runs one RUN step in its own VM; returns its layer, written at `tarPath`. */
export async function runRunStep(
  s: BuildSession,
  c: StepContext,
  root: string,
  stepDir: string,
  tarPath: string,
): Promise<BuiltLayer | null> {
  const step = c.step as RunStep;
  const env = runEnv(s.opts.buildArgs ?? {}, c.st, step);
  const workdir = c.st.config.WorkingDir || '/';
  const mounts = await prepareRunMounts(s.mountsContext, step, { index: c.st.index, workdir }, stepDir, env);
  s.vmRuns++;
  const r = await s.runStep({
    rootfsDir: root,
    commands: [runCommand(s, c, env)],
    mounts,
    cpus: s.opts.cpus,
    memoryMiB: s.opts.memoryMiB,
    signal: s.signal,
    timeoutMs: s.opts.stepTimeoutMs,
    logger: s.opts.logger,
    onStdout: (data) => s.progress({ type: 'log', id: c.id, stream: 'stdout', data }),
    onStderr: (data) => s.progress({ type: 'log', id: c.id, stream: 'stderr', data }),
  });
  try {
    if (r.failed || !r.layerTarPath) {
      const failed = r.failed ?? { index: 0, exitCode: -1, outputTail: '' };
      throw runFailure(s, c, failed.exitCode, failed.outputTail);
    }
    return await storeRunLayer(s, r.layerTarPath, tarPath);
  } finally {
    await r.cleanup();
  }
}
