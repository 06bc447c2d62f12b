/**
 * One build step in a microVM, through Kestrel's build mode: the host writes the step's command
 * files (NNN.cmd, then FINALIZE), boots a VM whose root is the stage's tree (read-only, with an
 * overlay upper dir for the step), reads the [HYPR-RESULT] markers from the control channel, and
 * picks up the step's layer as an uncompressed tar with OCI whiteouts. See guest/PROTOCOL.md.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HyprError } from '../errors.js';
import { encodeBuildCommand } from '../guest/job.js';
import type { Logger } from '../log.js';
import { type GuestMount, runVm } from '../vmm/guest-vm.js';

export interface BuildStepCommand {
  kind: 'run';
  argv: string[];
  env: string[];
  workdir?: string;
  user?: string;
}

export interface RunBuildStepOptions {
  /** The stage's filesystem so far; shared read-only, never written. */
  rootfsDir: string;
  commands: BuildStepCommand[];
  mounts?: GuestMount[];
  cpus?: number;
  memoryMiB?: number;
  signal?: AbortSignal;
  timeoutMs?: number;
  logger?: Logger;
  onStdout?: (b: Buffer) => void;
  onStderr?: (b: Buffer) => void;
}

export interface BuildStepResult {
  results: { index: number; exitCode: number }[];
  failed?: { index: number; exitCode: number; outputTail: string };
  /** The step's layer (uncompressed tar); undefined when a command failed. Lives in a temp dir: move it, then cleanup(). */
  layerTarPath?: string;
  cleanup(): Promise<void>;
}

const OUTPUT_TAIL_BYTES = 4096;

export async function runBuildStep(opts: RunBuildStepOptions): Promise<BuildStepResult> {
  if (opts.commands.length === 0) throw new HyprError('BUILD_STEP_EMPTY', 'a build step needs at least one command');
  const work = await mkdtemp(join(tmpdir(), 'hypr-step-'));
  const cleanup = () => rm(work, { recursive: true, force: true });
  try {
    const commandsDir = join(work, 'commands');
    const sharedDir = join(work, 'shared');
    await mkdir(commandsDir);
    await mkdir(sharedDir);
    const width = String(opts.commands.length + 1).length < 3 ? 3 : String(opts.commands.length + 1).length;
    const fileName = (i: number) => `${String(i + 1).padStart(width, '0')}.cmd`;
    for (const [i, c] of opts.commands.entries()) {
      await writeFile(
        join(commandsDir, fileName(i)),
        encodeBuildCommand({ kind: 'RUN', argv: c.argv, env: c.env, workdir: c.workdir, user: c.user }),
      );
    }
    await writeFile(join(commandsDir, fileName(opts.commands.length)), encodeBuildCommand({ kind: 'FINALIZE' }));

    let tail = '';
    const keep = (b: Buffer) => {
      tail = (tail + b.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
    };
    const r = await runVm({
      rootfs: { dir: opts.rootfsDir },
      argv: [],
      build: { commandsDir, sharedDir },
      mounts: opts.mounts,
      cpus: opts.cpus,
      memoryMiB: opts.memoryMiB ?? 512,
      signal: opts.signal,
      timeoutMs: opts.timeoutMs,
      logger: opts.logger,
      collectOutput: false,
      onStdout: (b) => {
        keep(b);
        opts.onStdout?.(b);
      },
      onStderr: (b) => {
        keep(b);
        opts.onStderr?.(b);
      },
    });
    if (r.guestError && r.results.length === 0)
      throw new HyprError('BUILD_STEP_FAILED', `the build VM could not run the step: ${r.guestError}`);
    const results = r.results
      .map((res) => ({ index: Number.parseInt(res.file, 10) - 1, exitCode: res.exitCode }))
      .filter((res) => res.index < opts.commands.length);
    const failedRun = r.results.find((res) => !res.ok);
    if (failedRun) {
      const index = Number.parseInt(failedRun.file, 10) - 1;
      if (index >= opts.commands.length)
        throw new HyprError(
          'BUILD_LAYER_FAILED',
          'the build VM could not write the step’s layer',
          tail.trim() || undefined,
        );
      return { results, failed: { index, exitCode: failedRun.exitCode, outputTail: tail }, cleanup };
    }
    const layerTarPath = join(sharedDir, 'layer.tar');
    if (r.results.length !== opts.commands.length + 1 || !existsSync(layerTarPath))
      throw new HyprError(
        'BUILD_STEP_INCOMPLETE',
        `the build VM ended after ${r.results.length} of ${opts.commands.length + 1} commands (exit ${r.exitCode})`,
      );
    return { results, layerTarPath, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
