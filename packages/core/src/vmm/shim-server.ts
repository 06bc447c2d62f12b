/**
 * The shim itself (run by cli/hypr-shim.ts): boots the VM its directory describes, serves clients
 * on DIR/shim.sock, keeps the container's log, and writes exit.json when the VM ends. Never writes
 * the workload's output anywhere but DIR/container.log and attached clients.
 */
import { appendFileSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { join } from 'node:path';
import { HyprError } from '../errors.js';
import { createLineSplitter } from '../lines.js';
import type { ExecSession } from './exec-session.js';
import { type GuestVm, bootGuestVm } from './guest-vm.js';
import { createLogWriter } from './shim-log.js';
import { processStartTicks } from './shim-processes.js';
import {
  SHIM_FILES,
  type ShimEvent,
  type ShimExit,
  type ShimRequest,
  type ShimState,
  type ShimVmConfig,
  encodeShimLine,
  fromBase64,
  parseShimLine,
} from './shim-protocol.js';
import { createWritableDisk } from './writable-disk.js';

function writeAtomic(path: string, data: string): void {
  writeFileSync(`${path}.tmp`, data, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/** At most this much output waits for the first attached client. */
const EARLY_OUTPUT_MAX_BYTES = 1 << 20;

/** The clients of one shim: who is attached to the output, and how the exit reaches them all. */
class ShimClients {
  readonly all = new Set<Socket>();
  readonly attached = new Set<Socket>();
  /**
   * Output kept for the first client to attach (containers with a terminal or stdin, which hyprd
   * attaches to live): clients connect once the program runs, and by then a shell may have printed
   * its prompt.
   */
  private early: string[] | undefined;
  private earlyBytes = 0;

  keepEarlyOutput(): void {
    this.early = [];
  }

  attach(c: Socket): void {
    this.attached.add(c);
    for (const line of this.early ?? []) c.write(line);
    this.early = undefined;
  }

  broadcast(stream: 'stdout' | 'stderr', b: Buffer): void {
    if (this.attached.size === 0 && !this.early) return;
    const line = encodeShimLine({ event: 'out', stream, data: b.toString('base64') });
    if (this.early) {
      if (this.earlyBytes + line.length <= EARLY_OUTPUT_MAX_BYTES) this.early.push(line);
      this.earlyBytes += line.length;
      return;
    }
    for (const c of this.attached) if (!c.destroyed) c.write(line);
  }

  /** The last line every client gets; then the socket goes. */
  finish(exit: ShimExit): void {
    for (const c of this.all) c.end(encodeShimLine({ event: 'exit', ...exit }));
  }
}

/** Boots the VM the config describes, its output going to the log and to attached clients. */
async function bootFromConfig(dir: string, config: ShimVmConfig, clients: ShimClients) {
  if (config.writableDisk) await createWritableDisk(config.writableDisk.path, config.writableDisk.sizeMiB);
  const logFd = openSync(join(dir, SHIM_FILES.log), 'a', 0o600);
  const out = createLogWriter(logFd, 'stdout');
  const err = createLogWriter(logFd, 'stderr');
  const { writableDisk, ...vmConfig } = config;
  const vm = await bootGuestVm({
    ...vmConfig,
    writableDisk: writableDisk?.path,
    exec: true,
    collectOutput: false,
    onStdout: (b) => {
      out.push(b);
      clients.broadcast('stdout', b);
    },
    onStderr: (b) => {
      err.push(b);
      clients.broadcast('stderr', b);
    },
  });
  return {
    vm,
    flushLog: () => {
      out.flush();
      err.flush();
    },
  };
}

/** One client connection: its requests, and the exec sessions it opened (they end when it goes). */
function serveClient(c: Socket, vm: GuestVm, config: ShimVmConfig, clients: ShimClients, note: (m: string) => void) {
  clients.all.add(c);
  const sessions = new Map<string, ExecSession>();
  const reply = (msg: ShimEvent) => {
    if (!c.destroyed) c.write(encodeShimLine(msg));
  };
  const openExec = (req: Extract<ShimRequest, { op: 'exec' }>) => {
    const id = req.id ?? '';
    const s = vm.exec({
      argv: req.argv ?? [],
      env: req.env,
      workdir: req.workdir,
      user: req.user,
      tty: req.tty,
      onStdout: (b) => reply({ event: 'exec-out', id, stream: 'stdout', data: b.toString('base64') }),
      onStderr: (b) => reply({ event: 'exec-out', id, stream: 'stderr', data: b.toString('base64') }),
    });
    sessions.set(id, s);
    s.started.then((pid) => reply({ event: 'exec-started', id, pid })).catch(() => {});
    void s.wait().then((r) => {
      sessions.delete(id);
      reply({ event: 'exec-exit', id, ...r });
    });
  };
  const answer = (id: string, work: () => Promise<unknown>) => {
    work().then(
      (result) => reply({ event: 'reply', id, ok: true, ...(result !== undefined ? { result } : {}) }),
      (e) => {
        const h = HyprError.from(e);
        reply({ event: 'reply', id, ok: false, error: h.message, code: h.code });
      },
    );
  };
  const handle = (req: ShimRequest) => {
    switch (req.op) {
      case 'pause':
        return answer(req.id, () => vm.pause());
      case 'resume':
        return answer(req.id, () => vm.resume());
      case 'is-paused':
        return answer(req.id, async () => vm.paused);
      case 'stats':
        return answer(req.id, () => vm.stats());
      case 'stop':
        return void vm.stop(req.signal, req.graceMs).catch(() => {});
      case 'kill':
        return vm.kill(req.signal);
      case 'attach':
        return clients.attach(c);
      case 'stdin':
        return config.stdin ? vm.writeStdin(fromBase64(req.data)) : undefined;
      case 'close-stdin':
        return config.stdin ? vm.closeStdin() : undefined;
      case 'resize':
        return vm.resize(req.rows ?? 24, req.cols ?? 80);
      case 'exec':
        return openExec(req);
      case 'exec-stdin':
        return sessions.get(req.id ?? '')?.write(fromBase64(req.data));
      case 'exec-close-stdin':
        return sessions.get(req.id ?? '')?.end();
      case 'exec-resize':
        return sessions.get(req.id ?? '')?.resize(req.rows ?? 24, req.cols ?? 80);
      case 'exec-signal':
        return sessions.get(req.id ?? '')?.signal(req.signal ?? 'TERM');
    }
  };
  c.on('close', () => {
    clients.all.delete(c);
    clients.attached.delete(c);
    // A client that goes away leaves nobody to read its exec sessions' output: end them.
    for (const s of sessions.values()) s.signal('KILL');
  });
  c.on('error', () => {});
  c.on(
    'data',
    createLineSplitter((line) => {
      try {
        const req = parseShimLine<ShimRequest>(line);
        if (!req) throw new Error('not JSON');
        handle(req);
      } catch {
        note(`bad request: ${line.slice(0, 100)}`);
      }
    }),
  );
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve) => server.listen(path, resolve));
}

/** Runs the shim of DIR until its VM ends; resolves to the shim's own exit status. */
export async function runShim(dir: string): Promise<number> {
  const note = (msg: string) => appendFileSync(join(dir, SHIM_FILES.shimLog), `${new Date().toISOString()} ${msg}\n`);
  const clients = new ShimClients();
  const finish = (exit: ShimExit) => {
    writeAtomic(join(dir, SHIM_FILES.exit), JSON.stringify(exit));
    clients.finish(exit);
    rmSync(join(dir, SHIM_FILES.socket), { force: true });
  };
  // Known from the first moment, so that hyprd can find (and end) a shim still booting its VM.
  const state: ShimState = {
    pid: process.pid,
    pidStartTicks: processStartTicks(process.pid),
    startedAt: new Date().toISOString(),
  };
  writeAtomic(join(dir, SHIM_FILES.state), JSON.stringify(state));
  let vm: GuestVm | undefined;
  try {
    const config = JSON.parse(readFileSync(join(dir, SHIM_FILES.config), 'utf8')) as ShimVmConfig;
    if (config.tty || config.stdin) clients.keepEarlyOutput();
    const booted = await bootFromConfig(dir, config, clients);
    const running = booted.vm;
    vm = running;
    writeAtomic(
      join(dir, SHIM_FILES.state),
      JSON.stringify({ ...state, vmPid: running.pid, vmStartTicks: processStartTicks(running.pid) }),
    );
    process.on('SIGTERM', () => void running.stop().catch(() => {}));
    process.on('SIGINT', () => {});
    process.on('SIGHUP', () => {});
    // Clients come once the program runs: a guest that panics at boot is a start that failed (its
    // exit.json says why), not a container that ran.
    const server =
      (await running.started()) !== undefined ? await serve(dir, running, config, clients, note) : undefined;
    let exit: ShimExit;
    try {
      const r = await running.wait();
      exit = { exitCode: r.exitCode, guestError: r.guestError, finishedAt: new Date().toISOString() };
    } catch (e) {
      exit = { exitCode: 255, error: HyprError.from(e).message, finishedAt: new Date().toISOString() };
    }
    booted.flushLog();
    finish(exit);
    server?.close();
    note(`vm ended: ${JSON.stringify(exit)}`);
    return 0;
  } catch (e) {
    const h = HyprError.from(e);
    note(`failed: ${h.format()}`);
    finish({ exitCode: 255, error: h.message, finishedAt: new Date().toISOString() });
    await vm?.destroy();
    return 1;
  }
}

async function serve(
  dir: string,
  vm: GuestVm,
  config: ShimVmConfig,
  clients: ShimClients,
  note: (m: string) => void,
): Promise<Server> {
  const server = createServer((c) => serveClient(c, vm, config, clients, note));
  await listen(server, join(dir, SHIM_FILES.socket));
  return server;
}
