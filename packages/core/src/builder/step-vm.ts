/**
 * Build steps in a microVM, through Kestrel's build mode: the host writes the command files (NNN.cmd),
 * boots a VM whose root is the stage's tree (read-only, with an overlay upper dir for the changes),
 * reads the [HYPR-RESULT] markers from the control channel, and picks up the layers as uncompressed
 * tars with OCI whiteouts: one for all commands (FINALIZE → layer.tar), or one per command (a LAYER
 * file after each → NNN.tar), so consecutive RUN steps share one boot. See guest/PROTOCOL.md.
 */
import { existsSync, watch } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HyprError } from '../errors.js';
import type { Logger } from '../log.js';
import { type GuestMount, type GuestVmResult, runVm } from '../vmm/guest-vm.js';
import { type BuildCommandRecord, encodeCommandFile } from './command-file.js';

export interface BuildStepCommand {
  kind: 'run';
  argv: string[];
  env: string[];
  workdir?: string;
  user?: string;
  /** `RUN --network=none`: no network for this command, even when the VM has a NIC. */
  network?: 'default' | 'none';
}

/** The network of a build VM: NICs on host TAPs, and the names its RUN commands see. */
export interface BuildVmNetwork {
  nics: { tap: string; mac: string; address: string; gateway?: string }[];
  /** Nameservers and search domains of the RUN's /etc/resolv.conf; extra /etc/hosts lines. */
  dns?: string[];
  dnsSearch?: string[];
  hosts?: { name: string; address: string }[];
  /** The hypervisor runs in this network namespace (where the TAPs are). */
  netns?: string;
}

export interface RunBuildStepOptions {
  /** The stage's filesystem so far; shared read-only, never written. */
  rootfsDir: string;
  commands: BuildStepCommand[];
  /** One layer per command (`layerTarPaths`) instead of one for them all (`layerTarPath`). */
  layerPerCommand?: boolean;
  mounts?: GuestMount[];
  network?: BuildVmNetwork;
  /** Called as each command ends well (with layerPerCommand: once its layer is written). */
  onCommandDone?: (index: number) => void;
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
  /** The layer of all commands (uncompressed tar); undefined when a command failed or with layerPerCommand. */
  layerTarPath?: string;
  /** With layerPerCommand: the layer of each command that ended well, in order. */
  layerTarPaths?: string[];
  /** The layers live in a temp dir: move them, then cleanup(). */
  cleanup(): Promise<void>;
}

const OUTPUT_TAIL_BYTES = 4096;

interface CommandFile {
  name: string;
  record: BuildCommandRecord;
  /** The command a RUN file runs, or whose layer a LAYER file writes. */
  command?: number;
}

function runRecord(c: BuildStepCommand, network: BuildVmNetwork | undefined): BuildCommandRecord {
  const names = network && c.network !== 'none' ? network : undefined;
  return {
    kind: 'RUN',
    argv: c.argv,
    env: c.env,
    workdir: c.workdir,
    user: c.user,
    noNetwork: network !== undefined && c.network === 'none',
    dns: names?.dns,
    dnsSearch: names?.dnsSearch,
    // /etc/hosts is written (localhost and the extra lines) only when the RUN gets names at all.
    hosts: names && (names.dns?.length ?? 0) + (names.hosts?.length ?? 0) > 0 ? (names.hosts ?? []) : undefined,
  };
}

/** NNN.cmd files: each RUN, then LAYER after each (layerPerCommand) or FINALIZE once. */
function planCommandFiles(opts: RunBuildStepOptions): CommandFile[] {
  const per = opts.layerPerCommand === true;
  const count = per ? opts.commands.length * 2 : opts.commands.length + 1;
  const width = Math.max(3, String(count).length);
  const files: CommandFile[] = [];
  const add = (record: BuildCommandRecord, command?: number) =>
    files.push({ name: `${String(files.length + 1).padStart(width, '0')}.cmd`, record, command });
  for (const [i, c] of opts.commands.entries()) {
    add(runRecord(c, opts.network), i);
    if (per) add({ kind: 'LAYER' }, i);
  }
  if (!per) add({ kind: 'FINALIZE' });
  return files;
}

/** Calls onCommandDone as each NNN.tar appears in the shared dir; returns a stop function. */
function watchLayers(sharedDir: string, files: CommandFile[], opts: RunBuildStepOptions): () => void {
  if (!opts.layerPerCommand || !opts.onCommandDone) return () => {};
  const byTar = new Map(files.filter((f) => f.record.kind === 'LAYER').map((f) => [tarName(f), f.command!]));
  const seen = new Set<number>();
  const watcher = watch(sharedDir, (_event, name) => {
    const index = name === null ? undefined : byTar.get(name.toString());
    if (index === undefined || seen.has(index) || !existsSync(join(sharedDir, name!.toString()))) return;
    seen.add(index);
    opts.onCommandDone?.(index);
  });
  watcher.on('error', () => {});
  return () => watcher.close();
}

const tarName = (f: CommandFile) => f.name.replace(/\.cmd$/, '.tar');

/** The step's outcome from the VM's results; throws when the VM itself failed. */
function stepOutcome(
  r: GuestVmResult,
  files: CommandFile[],
  sharedDir: string,
  tail: string,
  opts: RunBuildStepOptions,
): Omit<BuildStepResult, 'cleanup'> {
  if (r.guestError && r.results.length === 0)
    throw new HyprError('BUILD_STEP_FAILED', `the build VM could not run the step: ${r.guestError}`);
  const byName = new Map(files.map((f) => [f.name, f]));
  const results = r.results.flatMap((res) => {
    const f = byName.get(res.file);
    return f?.record.kind === 'RUN' ? [{ index: f.command!, exitCode: res.exitCode }] : [];
  });
  const layers = r.results.flatMap((res) => {
    const f = byName.get(res.file);
    return f?.record.kind === 'LAYER' && res.ok ? [join(sharedDir, tarName(f))] : [];
  });
  const failedRun = r.results.find((res) => !res.ok);
  if (failedRun) {
    const f = byName.get(failedRun.file);
    if (f?.record.kind !== 'RUN')
      throw new HyprError(
        'BUILD_LAYER_FAILED',
        'the build VM could not write the step’s layer',
        tail.trim() || undefined,
      );
    const failed = { index: f.command!, exitCode: failedRun.exitCode, outputTail: tail };
    return { results, failed, ...(opts.layerPerCommand ? { layerTarPaths: layers } : {}) };
  }
  const layerTarPath = join(sharedDir, 'layer.tar');
  const complete = opts.layerPerCommand ? layers.length === opts.commands.length : existsSync(layerTarPath);
  if (r.results.length !== files.length || !complete)
    throw new HyprError(
      'BUILD_STEP_INCOMPLETE',
      `the build VM ended after ${r.results.length} of ${files.length} commands (exit ${r.exitCode})`,
    );
  return opts.layerPerCommand ? { results, layerTarPaths: layers } : { results, layerTarPath };
}

export async function runBuildStep(opts: RunBuildStepOptions): Promise<BuildStepResult> {
  if (opts.commands.length === 0) throw new HyprError('BUILD_STEP_EMPTY', 'a build step needs at least one command');
  const work = await mkdtemp(join(tmpdir(), 'hypr-step-'));
  const cleanup = () => rm(work, { recursive: true, force: true });
  try {
    const commandsDir = join(work, 'commands');
    const sharedDir = join(work, 'shared');
    await mkdir(commandsDir);
    await mkdir(sharedDir);
    const files = planCommandFiles(opts);
    for (const f of files) await writeFile(join(commandsDir, f.name), encodeCommandFile(f.record));

    let tail = '';
    const keep = (b: Buffer) => {
      tail = (tail + b.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
    };
    const stopWatching = watchLayers(sharedDir, files, opts);
    let r: GuestVmResult;
    try {
      r = await runVm({
        rootfs: { dir: opts.rootfsDir },
        argv: [],
        build: { commandsDir, sharedDir },
        mounts: opts.mounts,
        ...(opts.network ? { nics: opts.network.nics, netns: opts.network.netns } : {}),
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
    } finally {
      stopWatching();
    }
    return { ...stepOutcome(r, files, sharedDir, tail, opts), cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
