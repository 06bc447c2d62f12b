/**
 * A container's supervisor: the process whose pid `create` writes to --pid-file, so the one the
 * engine (conmon, containerd's runc shim) waits on as runc's container init. It boots the VM on
 * `start`, sends the program's output to its own stdout/stderr (the engine's pipes, inherited from
 * `create`), takes kill and exec requests on ROOT/ID/sock, and exits with the program's exit code.
 * Signals sent to it go to the program, as they would to runc's init.
 */
import { appendFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { basename, join } from 'node:path';
import { HyprError } from '@hypr/core/errors';
import { type GuestVm, bootGuestVm } from '@hypr/core/vmm';
import type { BundleSpec } from './bundle.js';
import { type VmNetwork, takeOverNetwork } from './network.js';
import { type Reply, type Request, encodeLine, onLines } from './protocol.js';
import { parseSignal, signalExitCode } from './signals.js';
import { type ExitRecord, FILES, type StartedRecord, processStartTicks, readJson, writeJsonAtomic } from './state.js';
import { parentPipe, stdinIsNull } from './stdio.js';

/** Signals the supervisor forwards to the program (SIGKILL and SIGSTOP cannot be caught). */
const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
/** After a KILL the program dies at once; the VM gets this long to power off before it is ended. */
const KILL_GRACE_MS = 10_000;

function write(fd: 1 | 2, b: Buffer): void {
  (fd === 1 ? process.stdout : process.stderr).write(b);
}

/**
 * Resolves once the program runs, as runc's start returns once the init has exec'd: Kestrel serves
 * exec sessions only after it started the program, so a finished exec of its own `ps` tool says so.
 * A program that ends first ends the VM, which ends the wait too.
 */
async function programStarted(vm: GuestVm): Promise<void> {
  const probe = vm.exec({ argv: ['/proc/1/exe', 'ps'], onStdout: () => {}, onStderr: () => {} });
  probe.end();
  await Promise.race([probe.wait(), vm.wait().catch(() => undefined)]);
}

export async function runSupervisor(dir: string): Promise<number> {
  process.chdir(dir);
  const note = (msg: string) => appendFileSync(FILES.log, `${new Date().toISOString()} ${msg}\n`);
  const parent = parentPipe();
  const spec = readJson<BundleSpec>(FILES.bundle);
  if (!spec) {
    parent.tell(`error: ${join(dir, FILES.bundle)} is missing`);
    return 1;
  }
  const sup = new Supervisor(basename(dir), spec, note);
  try {
    await sup.listen();
  } catch (e) {
    parent.tell(`error: ${HyprError.from(e).message}`);
    return 1;
  }
  for (const sig of FORWARDED) process.on(sig, () => sup.kill(sig));
  parent.tell('ready');
  const exit = await sup.exited;
  writeJsonAtomic(FILES.exit, exit);
  note(`exit: ${JSON.stringify(exit)}`);
  await sup.close();
  await parent.gone;
  return exit.exitCode;
}

class Supervisor {
  private vm: GuestVm | undefined;
  private phase: 'created' | 'starting' | 'running' | 'stopped' = 'created';
  private server: Server | undefined;
  private pendingSignal: NodeJS.Signals | undefined;
  private network: VmNetwork | undefined;
  private settle!: (e: ExitRecord) => void;
  readonly exited = new Promise<ExitRecord>((r) => {
    this.settle = r;
  });

  constructor(
    private readonly id: string,
    private readonly spec: BundleSpec,
    private readonly note: (msg: string) => void,
  ) {}

  listen(): Promise<void> {
    const server = createServer((c) => this.serve(c));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(FILES.socket, () => resolve());
    });
  }

  /** Closes the socket and gives the network namespace back as it was. */
  async close(): Promise<void> {
    this.server?.close();
    await this.network?.release();
  }

  private finish(exitCode: number, error?: string): void {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    this.settle({ exitCode, finishedAt: new Date().toISOString(), ...(error ? { error } : {}) });
  }

  /** pause/resume: the whole VM stops (QMP), as runc freezes the container's cgroup. */
  private async freeze(on: boolean): Promise<void> {
    const vm = this.vm;
    if (!vm || this.phase !== 'running')
      throw new HyprError('CONTAINER_NOT_RUNNING', `cannot ${on ? 'pause' : 'resume'}: the container is ${this.phase}`);
    if (on) {
      await vm.pause();
      writeFileSync(FILES.paused, '');
    } else {
      await vm.resume();
      rmSync(FILES.paused, { force: true });
    }
  }

  kill(signal: NodeJS.Signals): void {
    this.note(`kill ${signal} in phase ${this.phase}`);
    if (this.phase === 'created') {
      this.finish(signalExitCode(signal));
      return;
    }
    // Killed while booting: the signal goes to the program as soon as there is one.
    if (this.phase === 'starting') this.pendingSignal = signal;
    const vm = this.vm;
    if (!vm || this.phase !== 'running') return;
    // Kestrel cannot take a signal while frozen: GuestVm.kill thaws the VM first.
    rmSync(FILES.paused, { force: true });
    vm.kill(signal);
    if (signal === 'SIGKILL') setTimeout(() => void vm.destroy(), KILL_GRACE_MS).unref();
  }

  private serve(c: Socket): void {
    c.on('error', () => {});
    const reply = (msg: Reply) => {
      if (!c.destroyed) c.write(encodeLine(msg));
    };
    const fail = (e: unknown) => {
      const h = HyprError.from(e);
      reply({ event: 'reply', ok: false, error: h.message, code: h.code });
    };
    // The first line is the request; the lines after it belong to its exec session, if any.
    let session: ((m: Request) => void) | undefined;
    let first = true;
    onLines<Request>(c, (req) => {
      if (!first) return session?.(req);
      first = false;
      try {
        if (req.op === 'start') this.start().then(() => reply({ event: 'reply', ok: true }), fail);
        else if (req.op === 'pause' || req.op === 'resume')
          this.freeze(req.op === 'pause').then(() => reply({ event: 'reply', ok: true }), fail);
        else if (req.op === 'kill') {
          this.kill(parseSignal(req.signal));
          reply({ event: 'reply', ok: true });
        } else if (req.op === 'exec') session = this.exec(c, req, reply);
        else throw new HyprError('INVALID_ARGUMENT', `unknown request ${req.op}`);
      } catch (e) {
        fail(e);
      }
    });
  }

  private async start(): Promise<void> {
    if (this.phase !== 'created')
      throw new HyprError('CONTAINER_IS_RUNNING', `the container cannot start: it is ${this.phase}`);
    this.phase = 'starting';
    const { spec } = this;
    const stdin = !stdinIsNull();
    try {
      const network = spec.netnsPath ? await takeOverNetwork(spec.netnsPath, this.id) : undefined;
      this.network = network;
      const vm = await bootGuestVm({
        rootfs: { dir: spec.rootfs },
        argv: spec.process.argv,
        env: spec.process.env,
        workdir: spec.process.cwd,
        user: spec.process.user,
        hostname: spec.hostname,
        mounts: spec.mounts,
        ...(spec.dns.length ? { dns: spec.dns } : {}),
        ...(spec.hosts.length ? { hosts: spec.hosts } : {}),
        ...(network ? { netns: network.netns, nics: network.nics } : {}),
        memoryMiB: spec.memoryMiB,
        cpus: spec.cpus,
        exec: true,
        stdin,
        collectOutput: false,
        onStdout: (b) => write(1, b),
        onStderr: (b) => write(2, b),
      });
      this.vm = vm;
    } catch (e) {
      const h = HyprError.from(e);
      this.note(`boot failed: ${h.format()}`);
      this.finish(255, h.message);
      throw h;
    }
    const vm = this.vm;
    await programStarted(vm);
    const started: StartedRecord = {
      startedAt: new Date().toISOString(),
      vmPid: vm.pid,
      vmPidStartTicks: vm.pid ? processStartTicks(vm.pid) : undefined,
    };
    writeJsonAtomic(FILES.started, started);
    this.phase = 'running';
    if (this.pendingSignal) this.kill(this.pendingSignal);
    if (stdin) {
      process.stdin.on('data', (b: Buffer) => vm.writeStdin(b));
      process.stdin.on('end', () => vm.closeStdin());
      process.stdin.on('error', () => vm.closeStdin());
    }
    vm.wait().then(
      (r) => this.finish(r.exitCode, r.guestError),
      (e) => this.finish(255, HyprError.from(e).message),
    );
  }

  /** One exec session on this connection: output and the exit code out; gives the handler of stdin and signals. */
  private exec(c: Socket, req: Extract<Request, { op: 'exec' }>, reply: (m: Reply) => void): (m: Request) => void {
    const vm = this.vm;
    if (!vm || this.phase !== 'running')
      throw new HyprError('CONTAINER_NOT_RUNNING', `cannot exec: the container is ${this.phase}`);
    const session = vm.exec({
      argv: req.argv,
      env: req.env,
      workdir: req.cwd,
      user: req.user,
      onStdout: (b) => reply({ event: 'out', stream: 'stdout', data: b.toString('base64') }),
      onStderr: (b) => reply({ event: 'out', stream: 'stderr', data: b.toString('base64') }),
    });
    if (!req.stdin) session.end();
    // A client that goes away leaves nobody to read the output: the program goes too.
    c.on('close', () => session.signal('KILL'));
    session.started.then((pid) => reply({ event: 'exec-started', pid })).catch(() => {});
    void session.wait().then((r) => {
      reply({ event: 'exec-exit', exitCode: r.exitCode, ...(r.error ? { error: r.error } : {}) });
      c.end();
    });
    return (m) => {
      if (m.op === 'stdin') session.write(Buffer.from(m.data, 'base64'));
      else if (m.op === 'close-stdin') session.end();
      else if (m.op === 'signal') session.signal(m.signal);
    };
  }
}
