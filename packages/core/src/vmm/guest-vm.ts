import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
/**
 * Boots one workload in a microVM with Kestrel as PID 1 and gives back its output and exit code.
 * The host side of the guest contract: build the initramfs (kestrel + job), listen on the three
 * channel sockets, start the hypervisor, parse the control markers, and clean everything up.
 */
import { type Server, type Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ErrorCode, HyprError } from '../errors.js';
import {
  type ExecFrame,
  ExecFrameReader,
  GuestEventReader,
  JOB_PATH,
  encodeExecFrame,
  encodeExecOpen,
  encodeJob,
  signalCommand,
  stopCommand,
} from '../guest/index.js';
import { type Logger, silentLogger } from '../log.js';
import { resolveGuestDir } from '../paths.js';
import type { Child } from '../process.js';
import { writeCpio } from '../rootfs/initramfs.js';
import { type AcceleratorChoice, detectAccelerator } from './accel.js';
import type { VmInstance, VmmAdapter } from './adapter.js';
import { selectAdapter } from './select.js';
import { DEFAULT_CPUS, DEFAULT_MEMORY_MIB, type VmSpec } from './spec.js';
import { findVirtiofsd, startVirtiofsd } from './virtiofsd.js';

export type RootfsSource = { dir: string } | { disk: string; type?: 'ext4' | 'erofs' };

/** A filesystem mounted in the guest before the program starts. */
export type GuestMount =
  /** A host directory shared with the guest (9p), e.g. a bind mount or a named volume's _data. */
  | { type: 'share'; hostPath: string; target: string; readOnly?: boolean }
  | { type: 'tmpfs'; target: string; options?: string };

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
  /** Build mode: run the command files in commandsDir, results in sharedDir (see guest/PROTOCOL.md). */
  build?: { commandsDir: string; sharedDir: string };
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

export interface GuestVmResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Set when Kestrel could not run the program (missing binary, bad user, bad rootfs …). */
  guestError?: string;
  /** Build mode: one entry per command file that ran. */
  results: { file: string; ok: boolean; exitCode: number }[];
  accel: AcceleratorChoice;
  durationMs: number;
}

export class VmError extends HyprError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly consoleTail: string,
    hint?: string,
    options?: ErrorOptions,
  ) {
    super(code, message, hint, options);
  }
}

export interface ExecOptions {
  argv: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  tty?: { rows: number; cols: number };
  onStdout?: (b: Buffer) => void;
  onStderr?: (b: Buffer) => void;
}

export interface ExecSession {
  /** Resolves once the program has started (its pid in the guest), rejects when it could not. */
  readonly started: Promise<number>;
  write(data: Buffer | string): void;
  /** Closes the program's stdin. */
  end(): void;
  resize(rows: number, cols: number): void;
  signal(signal: string): void;
  /** The program's exit code; `error` says why when it could not run (127 not found …). */
  wait(): Promise<{ exitCode: number; error?: string }>;
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
  /** Resolves when the VM has ended and every byte of output has arrived. */
  wait(): Promise<GuestVmResult>;
  /** Asks Kestrel to send `signal` to the program, then SIGKILL after graceMs; the VM ends with it. */
  stop(signal?: string, graceMs?: number): Promise<GuestVmResult>;
  /** Sends a signal to the program. */
  kill(signal?: string): void;
  /** Ends the hypervisor at once. */
  destroy(): Promise<void>;
}

let noticeShown = false;

export function guestArtifacts(opts: { kernelPath?: string; kestrelPath?: string } = {}): {
  kernel: string;
  kestrel: string;
} {
  const dir = resolveGuestDir();
  const kernel = opts.kernelPath ?? process.env.HYPR_KERNEL ?? join(dir, 'vmlinux');
  const kestrel = opts.kestrelPath ?? process.env.HYPR_KESTREL ?? join(dir, 'kestrel');
  if (!existsSync(kernel))
    throw new HyprError(
      'GUEST_KERNEL_MISSING',
      `guest kernel not found at ${kernel}`,
      'build it with scripts/build-kernel.sh (or set HYPR_KERNEL)',
    );
  if (!existsSync(kestrel))
    throw new HyprError(
      'GUEST_KESTREL_MISSING',
      `kestrel not found at ${kestrel}`,
      'build it with scripts/build-kestrel.sh (or set HYPR_KESTREL)',
    );
  return { kernel, kestrel };
}

function envList(env: GuestVmOptions['env']): string[] {
  if (!env) return [];
  return Array.isArray(env) ? env : Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

interface Channel {
  server: Server;
  socket?: Socket;
  closed: Promise<void>;
  /** Writes now when the hypervisor is connected, else as soon as it connects (nothing is dropped). */
  write(data: Buffer | string): void;
  /** Ends the host side (the guest reads end-of-file) once everything queued is written. */
  end(): void;
}

function listenChannel(path: string, onData: (b: Buffer) => void): Promise<Channel> {
  return new Promise((resolve, reject) => {
    let markClosed: () => void = () => {};
    const closed = new Promise<void>((r) => {
      markClosed = r;
    });
    const pending: (Buffer | string)[] = [];
    let ending = false;
    const ch: Channel = {
      server: createServer(),
      closed,
      write(data) {
        if (ch.socket && !ch.socket.destroyed) ch.socket.write(data);
        else if (!ch.socket) pending.push(data);
      },
      end() {
        if (ch.socket) ch.socket.end();
        else ending = true;
      },
    };
    ch.server.maxConnections = 1;
    ch.server.on('connection', (s) => {
      ch.socket = s;
      s.on('data', onData);
      s.on('error', () => {});
      s.on('close', () => markClosed());
      for (const d of pending.splice(0)) s.write(d);
      if (ending) s.end();
      ch.server.close();
    });
    ch.server.once('error', reject);
    ch.server.listen(path, () => resolve(ch));
  });
}

function consoleTail(text: string, lines = 20): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

export async function bootGuestVm(opts: GuestVmOptions): Promise<GuestVm> {
  const log = (opts.logger ?? silentLogger).child({ op: 'vm' });
  const accel = opts.accel ?? detectAccelerator();
  if (accel.accel === 'tcg' && !noticeShown) {
    noticeShown = true;
    log.warn({ reason: accel.reason }, 'no usable KVM: guests run under TCG emulation');
  }
  const adapter = opts.adapter ?? selectAdapter(accel.accel);
  const { kernel, kestrel } = guestArtifacts(opts);
  const rootfs = opts.rootfs;
  let root: string;
  if ('dir' in rootfs) {
    if (!existsSync(rootfs.dir) || !statSync(rootfs.dir).isDirectory())
      throw new HyprError('ROOTFS_NOT_FOUND', `root filesystem directory ${rootfs.dir} does not exist`);
    root = '9p:rootfs';
  } else {
    if (!existsSync(rootfs.disk))
      throw new HyprError('ROOTFS_NOT_FOUND', `root filesystem disk ${rootfs.disk} does not exist`);
    root = '/dev/vda';
  }

  // Disks appear in the guest in the order they are given: the rootfs disk (if any) first.
  const disks: VmSpec['disks'] = 'disk' in rootfs ? [{ path: rootfs.disk, readOnly: true }] : [];
  let upperDev: string | undefined;
  if (opts.writableDisk) {
    if (!existsSync(opts.writableDisk))
      throw new HyprError('WRITABLE_DISK_NOT_FOUND', `writable layer disk ${opts.writableDisk} does not exist`);
    upperDev = `/dev/vd${String.fromCharCode(97 + disks.length)}`;
    disks.push({ path: opts.writableDisk, readOnly: false });
  }
  const shares: VmSpec['shares'] = 'dir' in rootfs ? [{ tag: 'rootfs', hostPath: rootfs.dir, readOnly: true }] : [];
  const mountRecords: string[] = [];
  const virtiofsd = opts.mounts?.some((m) => m.type === 'share') ? findVirtiofsd() : undefined;
  const fsDaemons: Child[] = [];
  (opts.mounts ?? []).forEach((m, i) => {
    if (!m.target.startsWith('/'))
      throw new HyprError('MOUNT_INVALID', `mount target ${m.target} is not an absolute path`);
    if (m.type === 'share') {
      if (!existsSync(m.hostPath))
        throw new HyprError('MOUNT_SOURCE_NOT_FOUND', `mount source ${m.hostPath} does not exist`);
      // virtio-fs when a virtiofsd is there (its socket is set once the VM's work dir exists), else 9p.
      const fs = virtiofsd ? 'virtiofs' : '9p';
      shares.push({
        tag: `m${i}`,
        hostPath: m.hostPath,
        readOnly: !!m.readOnly,
        ...(virtiofsd ? { virtiofsSocket: '' } : {}),
      });
      mountRecords.push(`${fs}:m${i}\t${m.target}\t${fs}\t${m.readOnly ? 'ro' : 'rw'}`);
    } else {
      mountRecords.push(`tmpfs\t${m.target}\ttmpfs\t${m.options ?? 'mode=1777'}`);
    }
  });

  if (opts.build) {
    shares.push({ tag: 'hyprcmd', hostPath: opts.build.commandsDir, readOnly: true });
    shares.push({ tag: 'hyprshared', hostPath: opts.build.sharedDir, readOnly: false });
  }

  const started = Date.now();
  const work = await mkdtemp(join(tmpdir(), 'hypr-vm-'));
  const name = work.slice(-6);
  const collect = opts.collectOutput ?? true;
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let exitCode: number | undefined;
  let guestError: string | undefined;
  const results: GuestVmResult['results'] = [];
  const channels: Channel[] = [];
  let execChannel: Channel | undefined;
  let stdinChannel: Channel | undefined;
  const execSessions = new Map<number, { onFrame: (f: ExecFrame) => void }>();
  let instance: VmInstance | undefined;
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;

  const cleanup = async () => {
    clearTimeout(timer);
    for (const c of [...channels, execChannel, stdinChannel]) {
      c?.server.close();
      c?.socket?.destroy();
    }
    for (const s of execSessions.values()) s.onFrame({ type: 'x', session: 0, payload: Buffer.from('255') });
    await Promise.all(fsDaemons.map((d) => d.stop()));
    await rm(work, { recursive: true, force: true });
  };

  try {
    for (const share of shares) {
      if (share.virtiofsSocket === undefined || !virtiofsd) continue;
      share.virtiofsSocket = join(work, `vfs-${share.tag}.sock`);
      fsDaemons.push(
        await startVirtiofsd({
          binary: virtiofsd,
          socketPath: share.virtiofsSocket,
          source: share.hostPath,
          logger: log,
        }),
      );
    }
    const job = encodeJob({
      argv: opts.argv,
      env: envList(opts.env),
      workdir: opts.workdir,
      user: opts.user,
      root,
      rootfsType: 'disk' in rootfs ? rootfs.type : undefined,
      hostname: opts.hostname ?? name,
      stopGraceMs: opts.stopGraceMs,
      upperDevice: upperDev,
      mounts: mountRecords,
      ...(opts.build ? { mode: 'build' as const, commandsTag: 'hyprcmd', sharedTag: 'hyprshared' } : {}),
      nics: opts.nics?.map((n) => ({ mac: n.mac, address: n.address, gateway: n.gateway })),
      dns: opts.dns,
      dnsSearch: opts.dnsSearch,
      hosts: opts.hosts,
      exec: opts.exec,
      stdin: opts.stdin,
      tty: opts.tty,
    });
    const initrd = writeCpio([
      { path: 'init', mode: 0o755, data: await readFile(kestrel) },
      { path: 'hypr', type: 'dir', mode: 0o700 },
      { path: JOB_PATH, mode: 0o400, data: job },
    ]);
    const initrdPath = join(work, 'initrd.cpio');
    await writeFile(initrdPath, initrd, { mode: 0o600 });

    const reader = new GuestEventReader((e) => {
      log.debug({ event: e }, 'guest event');
      if (e.kind === 'exit') exitCode = e.code;
      else if (e.kind === 'error') guestError = e.message;
      else if (e.kind === 'result') results.push({ file: e.file, ok: e.ok, exitCode: e.exitCode });
    });
    const control = await listenChannel(join(work, 'control.sock'), (b) => reader.push(b));
    channels.push(control);
    if (opts.exec) {
      const frames = new ExecFrameReader((f) => execSessions.get(f.session)?.onFrame(f));
      execChannel = await listenChannel(join(work, 'exec.sock'), (b) => frames.push(b));
    }
    if (opts.stdin) stdinChannel = await listenChannel(join(work, 'stdin.sock'), () => {});
    channels.push(
      await listenChannel(join(work, 'stdout.sock'), (b) => {
        if (collect) out.push(b);
        opts.onStdout?.(b);
      }),
    );
    channels.push(
      await listenChannel(join(work, 'stderr.sock'), (b) => {
        if (collect) err.push(b);
        opts.onStderr?.(b);
      }),
    );
    const spec: VmSpec = {
      name,
      kernelPath: kernel,
      initrdPath,
      cmdline: 'console=ttyS0 reboot=t panic=-1 quiet',
      cpus: opts.cpus ?? DEFAULT_CPUS,
      memoryMiB: opts.memoryMiB ?? DEFAULT_MEMORY_MIB,
      disks,
      shares,
      nics: (opts.nics ?? []).map((n) => ({ tap: n.tap, mac: n.mac })),
      netns: opts.netns,
      channels: [
        { name: 'hypr.control', socketPath: join(work, 'control.sock'), vsockPort: 1024 },
        { name: 'hypr.stdout', socketPath: join(work, 'stdout.sock'), vsockPort: 1025 },
        { name: 'hypr.stderr', socketPath: join(work, 'stderr.sock'), vsockPort: 1026 },
        ...(opts.exec ? [{ name: 'hypr.exec', socketPath: join(work, 'exec.sock'), vsockPort: 1027 }] : []),
        ...(opts.stdin ? [{ name: 'hypr.stdin', socketPath: join(work, 'stdin.sock'), vsockPort: 1028 }] : []),
      ],
      consoleLogPath: join(work, 'console.log'),
    };
    instance = await adapter.start(spec, { accel: accel.accel, signal: opts.signal, log });
    if (opts.timeoutMs) {
      timer = setTimeout(() => {
        timedOut = true;
        log.warn({ timeoutMs: opts.timeoutMs }, 'vm timed out');
        void instance?.stop();
      }, opts.timeoutMs);
    }
  } catch (e) {
    await instance?.stop();
    await cleanup();
    throw e;
  }

  const vm = instance;
  let result: Promise<GuestVmResult> | undefined;
  const wait = (): Promise<GuestVmResult> => {
    result ??= (async () => {
      try {
        const exit = await vm.exited;
        // The channels close when the hypervisor exits; give the last bytes a moment to arrive.
        await Promise.race([Promise.all(channels.map((c) => c.closed)), new Promise((r) => setTimeout(r, 1000))]);
        const consoleText = await readFile(join(work, 'console.log'), 'utf8').catch(() => '');
        const base = {
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          accel,
          durationMs: Date.now() - started,
          results,
        };
        if (exitCode !== undefined) return { ...base, exitCode, guestError };
        if (timedOut)
          throw new VmError(
            'VM_TIMEOUT',
            `the VM did not finish within ${opts.timeoutMs} ms and was killed`,
            consoleTail(consoleText),
          );
        if (opts.signal?.aborted)
          throw new VmError('VM_ABORTED', 'the VM was stopped before it finished', consoleTail(consoleText));
        const panic = consoleText.indexOf('Kernel panic');
        if (panic >= 0)
          throw new VmError(
            'VM_KERNEL_PANIC',
            `the guest kernel panicked: ${consoleText.slice(panic).split('\n')[0].trim()}`,
            consoleTail(consoleText),
          );
        if (exit.code !== 0)
          throw new VmError(
            'VM_HYPERVISOR_FAILED',
            `${adapter.binary} failed (${exit.signal ?? `exit ${exit.code}`}): ${vm.stderrTail().trim() || 'no message'}`,
            consoleTail(consoleText),
          );
        throw new VmError(
          'VM_NO_EXIT_STATUS',
          `the VM ended without reporting an exit status${guestError ? `: ${guestError}` : ''}`,
          consoleTail(consoleText),
          'the console log below may say why',
        );
      } finally {
        await cleanup();
      }
    })();
    return result;
  };
  const send = (line: string) => channels[0]?.write(line);
  const exec = (o: ExecOptions): ExecSession => {
    if (!execChannel) throw new HyprError('EXEC_UNAVAILABLE', 'this VM was started without the exec channel');
    let id = 0;
    while (execSessions.has(id)) id++;
    if (id > 15) throw new HyprError('EXEC_TOO_MANY', 'at most 16 exec sessions can run at once');
    const ch = execChannel;
    const sendFrames = (type: Parameters<typeof encodeExecFrame>[0], payload?: Buffer | string) => {
      for (const f of encodeExecFrame(type, id, payload)) ch.write(f);
    };
    let startedResolve!: (pid: number) => void;
    let startedReject!: (e: Error) => void;
    const started = new Promise<number>((res, rej) => {
      startedResolve = res;
      startedReject = rej;
    });
    started.catch(() => {});
    let error: string | undefined;
    let done!: (r: { exitCode: number; error?: string }) => void;
    const finished = new Promise<{ exitCode: number; error?: string }>((r) => {
      done = r;
    });
    execSessions.set(id, {
      onFrame(f) {
        switch (f.type) {
          case 'P':
            startedResolve(Number(f.payload.toString()));
            break;
          case 'o':
            o.onStdout?.(Buffer.from(f.payload));
            break;
          case 'e':
            o.onStderr?.(Buffer.from(f.payload));
            break;
          case 'E':
            error = f.payload.toString();
            break;
          case 'x': {
            execSessions.delete(id);
            const exitCode = Number(f.payload.toString());
            startedReject(new HyprError('EXEC_FAILED', error ?? `exec ended with ${exitCode}`));
            done({ exitCode, error });
            break;
          }
        }
      },
    });
    sendFrames('O', encodeExecOpen({ argv: o.argv, env: o.env ?? [], workdir: o.workdir, user: o.user, tty: o.tty }));
    return {
      started,
      write: (d) => sendFrames('I', typeof d === 'string' ? Buffer.from(d) : d),
      end: () => sendFrames('C'),
      resize: (rows, cols) => sendFrames('R', `${rows}x${cols}`),
      signal: (sig) => sendFrames('S', sig.replace(/^SIG/, '')),
      wait: () => finished,
    };
  };
  return {
    pid: vm.pid,
    accel,
    wait,
    exec,
    writeStdin(data) {
      if (!stdinChannel) throw new HyprError('STDIN_UNAVAILABLE', 'this VM was started without stdin');
      stdinChannel.write(data);
    },
    closeStdin() {
      stdinChannel?.end();
    },
    resize(rows, cols) {
      send(`RESIZE ${rows | 0} ${cols | 0}\n`);
    },
    async stop(signal = 'SIGTERM', graceMs = opts.stopGraceMs ?? 10_000) {
      send(stopCommand(signal, graceMs));
      const killer = setTimeout(() => void vm.stop(), graceMs + 5_000);
      try {
        return await wait();
      } finally {
        clearTimeout(killer);
      }
    },
    kill(signal = 'SIGKILL') {
      send(signalCommand(signal));
    },
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
