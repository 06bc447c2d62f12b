import { readFile, stat } from 'node:fs/promises';
import { PROXY_BUILD_ARGS } from '../dockerfile/index.js';
import { SourceError } from '../errors.js';
import { envList, envMap } from './image-config.js';
import { type BuiltLayer, isEmptyLayerTar, normalizeLayerTar, storeLayerTar } from './layers.js';
import type { RunStep } from './run-mounts.js';
import type { BuildSession } from './session.js';
import type { StageState } from './stage-state.js';
import type { StepContext } from './step-context.js';
import { BuildStepError } from './step-error.js';
import type { BuildStepCommand } from './step-vm.js';

/**
 * RUN: its argv, environment and network as BuildKit makes them, its failure as BuildKit reports
 * it, and the layer it left, normalised (sorted, mtimes clamped) so the same inputs give the same
 * layer. Running it is run-group.ts's.
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

/** The command a RUN step hands to Kestrel, with the stage's config as it is now. */
export function runCommand(s: BuildSession, c: StepContext): BuildStepCommand {
  const step = c.step as RunStep;
  if (step.network === 'host') {
    throw new SourceError(
      'BUILD_NETWORK_UNSUPPORTED',
      'RUN --network=host is not supported: build steps run in microVMs, which have no host network',
      s.r.fileName,
      step.line,
      step.column,
      'drop --network=host; RUN steps reach the network through the build network',
    );
  }
  const command: BuildStepCommand = { kind: 'run', argv: c.argv!, env: runEnv(s.opts.buildArgs ?? {}, c.st, step) };
  if (c.st.config.WorkingDir) command.workdir = c.st.config.WorkingDir;
  if (c.st.config.User) command.user = c.st.config.User;
  if (step.network === 'none' || s.opts.network === 'none') command.network = 'none';
  return command;
}

/** The BuildKit-shaped error of a RUN that exited non-zero; reports the step as failed. */
export function runFailure(s: BuildSession, c: StepContext, exitCode: number, outputTail: string): BuildStepError {
  const durationMs = Date.now() - c.t0;
  s.progress({ type: 'step', id: c.id, name: c.name, stage: c.st.index, step: c.i, status: 'error', durationMs });
  return new BuildStepError(c.name, c.argv!.join(' '), exitCode, outputTail, s.r.fileName, c.step.line, s.r.source);
}

/** A tar of nothing but end-of-archive blocks: what Kestrel writes for a RUN that changed nothing. */
async function isZeroTar(path: string): Promise<boolean> {
  const st = await stat(path);
  if (st.size > 64 * 1024) return false;
  return (await readFile(path)).every((b) => b === 0);
}

/** Normalises the layer a RUN left (none when it changed nothing) and stores it, written at `tarPath`. */
export async function storeRunLayer(s: BuildSession, layerTar: string, tarPath: string): Promise<BuiltLayer | null> {
  if ((await isZeroTar(layerTar)) || (await isEmptyLayerTar(layerTar))) return null;
  await normalizeLayerTar(layerTar, tarPath, s.epoch);
  return storeLayerTar(s.store, tarPath, s.signal);
}
