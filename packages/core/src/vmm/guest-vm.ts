/**
 * Boots one workload in a microVM with Kestrel as PID 1 and gives back its output and exit code.
 * The host side of the guest contract, in order: lay out the storage, write the initramfs (kestrel
 * + job), listen on the channel sockets, start the hypervisor, parse the control markers, and
 * clean everything up when the VM ends.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { HyprError } from '../errors.js';
import { GuestEventReader, encodeJob, signalCommand, stopCommand } from '../guest/index.js';
import { type Logger, silentLogger } from '../log.js';
import type { Child } from '../process.js';
import { type AcceleratorChoice, detectAccelerator } from './accel.js';
import type { VmInstance, VmmAdapter, VmmCommand } from './adapter.js';
import { type GuestChannelSet, guestChannelSpecs, openGuestChannels } from './channels.js';
import { createGuestExec } from './exec-channel.js';
import type { ExecOptions, ExecSession } from './exec-session.js';
import { guestArtifacts, writeGuestInitrd } from './guest-files.js';
import { type GuestMount, type GuestStorage, type RootfsSource, planGuestStorage } from './guest-storage.js';
import { type ProcessTable, copyFromGuest, copyToGuest, listProcesses } from './guest-tools.js';
import { selectAdapter } from './select.js';
import { DEFAULT_CPUS, DEFAULT_MEMORY_MIB, type VmChannel, type VmSpec } from './spec.js';
import { startVirtiofsd, virtiofsdArgs } from './virtiofsd.js';
import { type VmStats, controlUnsupported } from './vm-control.js';
import { type GuestReport, type GuestVmResult, settleVm } from './vm-result.js';

export type { ExecOptions, ExecSession } from './exec-session.js';
export type { GuestMount, RootfsSource } from './guest-storage.js';
export { guestArtifacts } from './guest-files.js';
export { type GuestVmResult, VmError } from './vm-result.js';
export type { VmBlockStats, VmMemoryStats, VmStats } from './vm-control.js';
export type { ProcessTable } from './guest-tools.js';

export interface GuestVmOptions {
  rootfs: RootfsSource;
  argv: string[];
  /** "K=V" entries or a map. */
  env?: string[] | Record<string, string>;
  workdir?: string;
  user?: string;
  hostname?: string;
  /** Persistent writable layer: an ext4 disk image (see createWritableDisk); absent = a tmpfs. */
  writableDisk?: string;
  /**
   * The caller deletes writableDisk unread once the VM ends (docker's AutoRemove, `run --rm`):
   * neither Kestrel nor the hypervisor flushes it, which saves the end's sync and the host's fsync.
   * Volumes are still flushed before the VM ends.
   */
  ephemeralLayer?: boolean;
  mounts?: GuestMount[];
  /** NICs attached to host TAP devices; Kestrel configures each (matched by MAC) before the program starts. */
  nics?: { tap: string; mac: string; address: string; gateway?: string }[];
  /** Nameservers and search domains for the guest's /etc/resolv.conf; extra /etc/hosts entries. */
  dns?: string[];
  dnsSearch?: string[];
  hosts?: { name: string; address: string }[];
  /** Run the hypervisor inside this network namespace (where the TAP devices are). */
  netns?: string;
  /** Attach the exec channel, so GuestVm.exec can run more programs in the running VM. */
  exec?: boolean;
  /** The program reads its stdin from the host (GuestVm.writeStdin/closeStdin), as `run -i`. */
  stdin?: boolean;
  /** The program gets a pseudo-terminal of this size (stdout and stderr merged), as `run -t`. */
  tty?: { rows: number; cols: number };
  /** Size of the container's /dev/shm (`--shm-size`); default 64 MiB, as docker. */
  shmSizeBytes?: number;
  /** The container sees the VM's whole /dev, disks and channels included (`--privileged`). */
  privileged?: boolean;
  /** VM device nodes passed through to the container's /dev (`--device`). */
  devices?: string[];
  /** Build mode: run the command files in commandsDir, results in sharedDir (see guest/PROTOCOL.md). */
  build?: { commandsDir: string; sharedDir: string };
  /** Build mode: called as each command file's result arrives. */
  onResult?: (r: { file: string; ok: boolean; exitCode: number }) => void;
  cpus?: number;
  memoryMiB?: number;
  /** Kill the VM when it runs longer than this; the run then fails with VM_TIMEOUT. */
  timeoutMs?: number;
  /** Grace between the stop signal and SIGKILL in the guest. */
  stopGraceMs?: number;
  signal?: AbortSignal;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  /** Keep stdout/stderr in the result (default true). */
  collectOutput?: boolean;
  adapter?: VmmAdapter;
  accel?: AcceleratorChoice;
  kernelPath?: string;
  kestrelPath?: string;
  logger?: Logger;
}

export interface GuestVm {
  readonly pid: number | undefined;
  /** Writes to the program's stdin (needs the stdin option). */
  writeStdin(data: Buffer | string): void;
  /** Closes the program's stdin: it reads end-of-file. */
  closeStdin(): void;
  /** Resizes the program's terminal (needs the tty option). */
  resize(rows: number, cols: number): void;
  /** Runs another program in the running VM (needs the exec option). */
  exec(opts: ExecOptions): ExecSession;
  readonly accel: AcceleratorChoice;
  /**
   * Resolves with the program's pid (in the guest) once Kestrel has started it, or with undefined
   * when the VM ended before that (a kernel panic at boot, a bad rootfs: wait() says why).
   */
  started(): Promise<number | undefined>;
  /** Resolves when the VM has ended and every byte of output has arrived. */
  wait(): Promise<GuestVmResult>;
  /** Asks Kestrel to send `signal` to the program, then SIGKILL after graceMs; the VM ends with it. */
  stop(signal?: string, graceMs?: number): Promise<GuestVmResult>;
  /** Sends a signal to the program. */
  kill(signal?: string): void;
  /** Ends the hypervisor at once. */
  destroy(): Promise<void>;
  /** Freezes the whole VM (`hypr pause`); stop() and kill() resume it first, as docker does. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  readonly paused: boolean;
  /** One sample of block I/O and guest memory (`hypr stats`). */
  stats(): Promise<VmStats>;
  /** The container's processes, as `ps -ef` shows them (`hypr top`; needs the exec option). */
  top(): Promise<ProcessTable>;
  /** A tar of PATH in the running container (`hypr cp CONTAINER:PATH -`; needs the exec option). */
  copyFrom(path: string): Readable;
  /** Unpacks a tar into DIR in the running container (`hypr cp - CONTAINER:DIR`; needs the exec option). */
  copyTo(dir: string, tar: Readable | Buffer): Promise<void>;
}

let noticeShown = false;

function envList(env: GuestVmOptions['env']): string[] {
  if (!env) return [];
  return Array.isArray(env) ? env : Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

/** The job Kestrel reads (guest/PROTOCOL.md): the program and everything around it. */
function guestJob(opts: GuestVmOptions, storage: GuestStorage, name: string): Buffer {
  return encodeJob({
    argv: opts.argv,
    env: envList(opts.env),
    workdir: opts.workdir,
    user: opts.user,
    root: storage.root,
    rootfsType: storage.rootfsType,
    hostname: opts.hostname ?? name,
    stopGraceMs: opts.stopGraceMs,
    upperDevice: storage.upperDevice,
    ephemeralUpper: storage.ephemeralUpper,
    mounts: storage.mountRecords,
    ...(opts.build ? { mode: 'build' as const, commandsTag: 'hyprcmd', sharedTag: 'hyprshared' } : {}),
    nics: opts.nics?.map((n) => ({ mac: n.mac, address: n.address, gateway: n.gateway })),
    dns: opts.dns,
    dnsSearch: opts.dnsSearch,
    hosts: opts.hosts,
    exec: opts.exec,
    stdin: opts.stdin,
    tty: opts.tty,
    shmSizeBytes: opts.shmSizeBytes,
    privileged: opts.privileged,
    devices: opts.devices,
  });
}

function deferredStart(): Running['programStart'] {
  let settle: (pid: number | undefined) => void = () => {};
  const promise = new Promise<number | undefined>((r) => {
    settle = r;
  });
  return { promise, settle };
}

/** Everything a booted VM owns until it ends. */
interface Running {
  opts: GuestVmOptions;
  adapter: VmmAdapter;
  accel: AcceleratorChoice;
  vm: VmInstance;
  channels: GuestChannelSet;
  work: string;
  started: number;
  report: GuestReport & { results: GuestVmResult['results'] };
  output: { out: Buffer[]; err: Buffer[] };
  timedOut: () => boolean;
  /** The program's start (see GuestVm.started); settled with undefined once the VM has ended. */
  programStart: { promise: Promise<number | undefined>; settle(pid: number | undefined): void };
  cleanup: () => Promise<void>;
  exec?: ReturnType<typeof createGuestExec>;
}

/** The control channel's markers into the report (and build results to onResult as they come). */
function guestEventReader(
  report: Running['report'],
  opts: GuestVmOptions,
  log: Logger,
  onStarted: (pid: number) => void,
): GuestEventReader {
  return new GuestEventReader((e) => {
    log.debug({ event: e }, 'guest event');
    if (e.kind === 'started') onStarted(e.pid);
    else if (e.kind === 'exit') report.exitCode = e.code;
    else if (e.kind === 'error') report.guestError = e.message;
    else if (e.kind === 'result') {
      const r = { file: e.file, ok: e.ok, exitCode: e.exitCode };
      report.results.push(r);
      opts.onResult?.(r);
    }
  });
}

/** What the hypervisor boots; every file of the VM lives in its work directory. */
function vmSpec(
  opts: GuestVmOptions,
  storage: GuestStorage,
  vm: { name: string; kernel: string; initrdPath: string; work: string; channels: VmChannel[] },
): VmSpec {
  return {
    name: vm.name,
    kernelPath: vm.kernel,
    initrdPath: vm.initrdPath,
    // no_timer_check: on a loaded host (many TCG guests on few cores) the kernel's check that the
    // IO-APIC timer ticks can time out and panic the guest at boot ("IO-APIC + timer doesn't work!").
    cmdline: 'console=ttyS0 reboot=t panic=-1 quiet no_timer_check',
    cpus: opts.cpus ?? DEFAULT_CPUS,
    memoryMiB: opts.memoryMiB ?? DEFAULT_MEMORY_MIB,
    disks: storage.disks,
    shares: storage.shares,
    nics: (opts.nics ?? []).map((n) => ({ tap: n.tap, mac: n.mac })),
    netns: opts.netns,
    channels: vm.channels,
    consoleLogPath: join(vm.work, 'console.log'),
    controlSocketPath: join(vm.work, 'qmp.sock'),
  };
}

/** A virtiofsd the hypervisor needs running (it connects to `socket`) before it starts. */
export interface VmHelper {
  binary: string;
  args: string[];
  socket: string;
  /** The shared directory it serves. */
  source: string;
}

/** A VM laid out and ready to start: nothing runs yet. */
export interface PreparedGuestVm {
  adapter: VmmAdapter;
  accel: AcceleratorChoice;
  spec: VmSpec;
  /** The hypervisor's command line. */
  command: VmmCommand;
  /** One virtiofsd per virtio-fs share, started before the hypervisor. */
  helpers: VmHelper[];
}

function noticeTcg(accel: AcceleratorChoice, log: Logger): void {
  if (accel.accel === 'tcg' && !noticeShown) {
    noticeShown = true;
    log.warn({ reason: accel.reason }, 'no usable KVM: guests run under TCG emulation');
  }
}

/** The virtio-fs shares' daemons, each with its socket in `work` (set on the share for the spec). */
function virtiofsHelpers(storage: GuestStorage, work: string): VmHelper[] {
  const binary = storage.virtiofsd;
  if (!binary) return [];
  return storage.shares
    .filter((s) => s.virtiofsSocket !== undefined)
    .map((share) => {
      share.virtiofsSocket = join(work, `vfs-${share.tag}.sock`);
      return {
        binary,
        args: virtiofsdArgs(share.virtiofsSocket, share.hostPath),
        socket: share.virtiofsSocket,
        source: share.hostPath,
      };
    });
}

/**
 * Lays a VM out in `work` (its initramfs with the job, the socket paths of its channels, console
 * and control) and returns what to run: the hypervisor's command line and the helpers it needs.
 * bootGuestVm runs it in this process; a shim (shim.ts) runs it detached.
 */
export async function prepareGuestVm(
  opts: GuestVmOptions,
  vm: { work: string; name: string; channels: VmChannel[] },
): Promise<PreparedGuestVm> {
  const log = (opts.logger ?? silentLogger).child({ op: 'vm' });
  const accel = opts.accel ?? detectAccelerator();
  noticeTcg(accel, log);
  const adapter = opts.adapter ?? selectAdapter(accel.accel);
  const { kernel, kestrel } = guestArtifacts(opts);
  const storage = planGuestStorage(opts);
  const helpers = virtiofsHelpers(storage, vm.work);
  const initrdPath = await writeGuestInitrd(vm.work, kestrel, guestJob(opts, storage, vm.name));
  const spec = vmSpec(opts, storage, { ...vm, kernel, initrdPath });
  await adapter.prepare?.(spec);
  return { adapter, accel, spec, command: adapter.buildCommand(spec, accel.accel), helpers };
}

export async function bootGuestVm(opts: GuestVmOptions): Promise<GuestVm> {
  const log = (opts.logger ?? silentLogger).child({ op: 'vm' });
  const started = Date.now();
  const work = await mkdtemp(join(tmpdir(), 'hypr-vm-'));
  const name = work.slice(-6);
  const collect = opts.collectOutput ?? true;
  const output = { out: [] as Buffer[], err: [] as Buffer[] };
  const report: Running['report'] = { results: [] };
  const programStart = deferredStart();
  const exec = opts.exec ? createGuestExec() : undefined;
  const fsDaemons: Child[] = [];
  let channels: GuestChannelSet | undefined;
  let instance: VmInstance | undefined;
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const cleanup = async () => {
    clearTimeout(timer);
    instance?.control?.close();
    channels?.destroy();
    exec?.endAll();
    await Promise.all(fsDaemons.map((d) => d.stop()));
    await rm(work, { recursive: true, force: true });
  };
  try {
    const specs = guestChannelSpecs(work, { exec: !!exec, stdin: opts.stdin });
    const { adapter, accel, spec, helpers } = await prepareGuestVm(opts, { work, name, channels: specs });
    for (const h of helpers)
      fsDaemons.push(await startVirtiofsd({ binary: h.binary, socketPath: h.socket, source: h.source, logger: log }));
    const reader = guestEventReader(report, opts, log, programStart.settle);
    channels = await openGuestChannels(work, {
      onControl: (b) => reader.push(b),
      onStdout: (b) => {
        if (collect) output.out.push(b);
        opts.onStdout?.(b);
      },
      onStderr: (b) => {
        if (collect) output.err.push(b);
        opts.onStderr?.(b);
      },
      ...(exec ? { onExec: (b: Buffer) => exec.push(b) } : {}),
      stdin: opts.stdin,
    });
    instance = await adapter.start(spec, { accel: accel.accel, signal: opts.signal, log });
    instance.exited.then(
      () => programStart.settle(undefined),
      () => programStart.settle(undefined),
    );
    if (opts.timeoutMs) {
      timer = setTimeout(() => {
        timedOut = true;
        log.warn({ timeoutMs: opts.timeoutMs }, 'vm timed out');
        void instance?.stop();
      }, opts.timeoutMs);
    }
    return guestVmHandle({
      opts,
      adapter,
      accel,
      vm: instance,
      channels,
      work,
      started,
      report,
      output,
      timedOut: () => timedOut,
      programStart,
      cleanup,
      exec,
    });
  } catch (e) {
    await instance?.stop();
    await cleanup();
    programStart.settle(undefined);
    throw e;
  }
}

/** Resolves once the VM has ended and its last output has arrived; cleans up exactly once. */
function endOf(r: Running): () => Promise<GuestVmResult> {
  const { vm, channels, opts } = r;
  let result: Promise<GuestVmResult> | undefined;
  return () => {
    result ??= (async () => {
      try {
        const exit = await vm.exited;
        // The channels close when the hypervisor exits; give the last bytes a moment to arrive.
        await Promise.race([channels.outputClosed(), new Promise((res) => setTimeout(res, 1000))]);
        const consoleText = await readFile(join(r.work, 'console.log'), 'utf8').catch(() => '');
        return settleVm(
          {
            exit,
            report: r.report,
            consoleText,
            timedOutAfterMs: r.timedOut() ? opts.timeoutMs : undefined,
            aborted: !!opts.signal?.aborted,
            hypervisor: r.adapter.binary,
            stderrTail: vm.stderrTail(),
          },
          {
            stdout: Buffer.concat(r.output.out).toString('utf8'),
            stderr: Buffer.concat(r.output.err).toString('utf8'),
            accel: r.accel,
            durationMs: Date.now() - r.started,
            results: r.report.results,
          },
        );
      } finally {
        r.programStart.settle(undefined);
        await r.cleanup();
      }
    })();
    return result;
  };
}

function guestVmHandle(r: Running): GuestVm {
  const { vm, channels, opts } = r;
  const wait = endOf(r);
  const send = (line: string) => channels.control.write(line);
  const exec = (o: ExecOptions): ExecSession => {
    if (!r.exec || !channels.exec)
      throw new HyprError('EXEC_UNAVAILABLE', 'this VM was started without the exec channel');
    return r.exec.open(channels.exec, o);
  };
  const control = () => vm.control ?? controlUnsupported(r.adapter.name);
  let paused = false;
  // A frozen Kestrel cannot take a stop request: thaw the VM first.
  const thaw = async () => {
    if (!paused) return;
    paused = false;
    await vm.control?.resume().catch(() => {});
  };
  return {
    pid: vm.pid,
    accel: r.accel,
    started: () => r.programStart.promise,
    wait,
    exec,
    top: () => listProcesses(exec),
    copyFrom: (path) => copyFromGuest(exec, path),
    copyTo: (dir, tar) => copyToGuest(exec, dir, tar),
    writeStdin(data) {
      if (!channels.stdin) throw new HyprError('STDIN_UNAVAILABLE', 'this VM was started without stdin');
      channels.stdin.write(data);
    },
    closeStdin() {
      channels.stdin?.end();
    },
    resize(rows, cols) {
      send(`RESIZE ${rows | 0} ${cols | 0}\n`);
    },
    async stop(signal = 'SIGTERM', graceMs = opts.stopGraceMs ?? 10_000) {
      await thaw();
      send(stopCommand(signal, graceMs));
      const killer = setTimeout(() => void vm.stop(), graceMs + 5_000);
      try {
        return await wait();
      } finally {
        clearTimeout(killer);
      }
    },
    kill(signal = 'SIGKILL') {
      void thaw().then(() => send(signalCommand(signal)));
    },
    get paused() {
      return paused;
    },
    async pause() {
      await control().pause();
      paused = true;
    },
    async resume() {
      await control().resume();
      paused = false;
    },
    stats: () => control().stats(),
    async destroy() {
      await vm.stop();
      await wait().catch(() => undefined);
    },
  };
}

/** Boots a VM, runs one program to completion, and resolves to its exit code and output. */
export async function runVm(opts: GuestVmOptions): Promise<GuestVmResult> {
  const vm = await bootGuestVm(opts);
  return vm.wait();
}
