/**
 * hypr-shim DIR: owns one container VM (see src/vmm/shim.ts for the contract). Started detached by
 * hyprd; survives it. Never prints the workload's output anywhere but DIR/container.log.
 */
import { appendFileSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { type Socket, createServer } from 'node:net';
import { join } from 'node:path';
import { HyprError } from '../errors.js';
import { createLineSplitter } from '../lines.js';
import { type ExecSession, type GuestVm, bootGuestVm } from '../vmm/guest-vm.js';
import { SHIM_FILES, type ShimExit, type ShimVmConfig } from '../vmm/shim.js';
import { createWritableDisk } from '../vmm/writable-disk.js';

interface ShimRequest {
  op: string;
  id?: string;
  signal?: string;
  graceMs?: number;
  data?: string;
  rows?: number;
  cols?: number;
  argv?: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  tty?: { rows: number; cols: number };
}

function rfc3339Nano(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

/** Splits a stream into lines as docker's json-file driver does; a partial line waits for its end. */
function createLogWriter(fd: number, stream: 'stdout' | 'stderr') {
  let pending = '';
  const write = (text: string) => writeSync(fd, `${JSON.stringify({ log: text, stream, time: rfc3339Nano() })}\n`);
  return {
    push(chunk: Buffer) {
      pending += chunk.toString('utf8');
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        write(pending.slice(0, nl + 1));
        pending = pending.slice(nl + 1);
        nl = pending.indexOf('\n');
      }
      if (pending.length > 16384) {
        write(pending);
        pending = '';
      }
    },
    flush() {
      if (pending) write(pending);
      pending = '';
    },
  };
}

function writeAtomic(path: string, data: string): void {
  writeFileSync(`${path}.tmp`, data, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

export async function main(dir: string): Promise<number> {
  const note = (msg: string) => appendFileSync(join(dir, SHIM_FILES.shimLog), `${new Date().toISOString()} ${msg}\n`);
  const clients = new Set<Socket>();
  const finish = (exit: ShimExit) => {
    writeAtomic(join(dir, SHIM_FILES.exit), JSON.stringify(exit));
    for (const c of clients) c.end(`${JSON.stringify({ event: 'exit', ...exit })}\n`);
    rmSync(join(dir, SHIM_FILES.socket), { force: true });
  };
  let vm: GuestVm | undefined;
  const attached = new Set<Socket>();
  const broadcast = (stream: 'stdout' | 'stderr', b: Buffer) => {
    if (attached.size === 0) return;
    const line = `${JSON.stringify({ event: 'out', stream, data: b.toString('base64') })}\n`;
    for (const c of attached) if (!c.destroyed) c.write(line);
  };
  try {
    const config = JSON.parse(readFileSync(join(dir, SHIM_FILES.config), 'utf8')) as ShimVmConfig;
    if (config.writableDisk) await createWritableDisk(config.writableDisk.path, config.writableDisk.sizeMiB);
    const logFd = openSync(join(dir, SHIM_FILES.log), 'a', 0o600);
    const out = createLogWriter(logFd, 'stdout');
    const err = createLogWriter(logFd, 'stderr');
    vm = await bootGuestVm({
      rootfs: config.rootfs,
      argv: config.argv,
      env: config.env,
      workdir: config.workdir,
      user: config.user,
      hostname: config.hostname,
      cpus: config.cpus,
      memoryMiB: config.memoryMiB,
      stopGraceMs: config.stopGraceMs,
      writableDisk: config.writableDisk?.path,
      mounts: config.mounts,
      stdin: config.stdin,
      tty: config.tty,
      nics: config.nics,
      dns: config.dns,
      dnsSearch: config.dnsSearch,
      hosts: config.hosts,
      netns: config.netns,
      exec: true,
      collectOutput: false,
      onStdout: (b) => {
        out.push(b);
        broadcast('stdout', b);
      },
      onStderr: (b) => {
        err.push(b);
        broadcast('stderr', b);
      },
    });
    const running = vm;
    writeAtomic(
      join(dir, SHIM_FILES.state),
      JSON.stringify({ pid: process.pid, vmPid: running.pid, startedAt: new Date().toISOString() }),
    );
    const server = createServer((c) => {
      clients.add(c);
      const sessions = new Map<string, ExecSession>();
      const reply = (msg: object) => {
        if (!c.destroyed) c.write(`${JSON.stringify(msg)}\n`);
      };
      c.on('close', () => {
        clients.delete(c);
        attached.delete(c);
        // A client that goes away leaves nobody to read its exec sessions' output: end them.
        for (const s of sessions.values()) s.signal('KILL');
      });
      c.on('error', () => {});
      c.on(
        'data',
        createLineSplitter((line) => {
          try {
            const req = JSON.parse(line) as ShimRequest;
            const d = () => Buffer.from(req.data ?? '', 'base64');
            switch (req.op) {
              case 'stop':
                void running.stop(req.signal, req.graceMs).catch(() => {});
                break;
              case 'kill':
                running.kill(req.signal);
                break;
              case 'attach':
                attached.add(c);
                break;
              case 'stdin':
                if (config.stdin) running.writeStdin(d());
                break;
              case 'close-stdin':
                if (config.stdin) running.closeStdin();
                break;
              case 'resize':
                running.resize(req.rows ?? 24, req.cols ?? 80);
                break;
              case 'exec': {
                const id = req.id ?? '';
                const s = running.exec({
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
                break;
              }
              case 'exec-stdin':
                sessions.get(req.id ?? '')?.write(d());
                break;
              case 'exec-close-stdin':
                sessions.get(req.id ?? '')?.end();
                break;
              case 'exec-resize':
                sessions.get(req.id ?? '')?.resize(req.rows ?? 24, req.cols ?? 80);
                break;
              case 'exec-signal':
                sessions.get(req.id ?? '')?.signal(req.signal ?? 'TERM');
                break;
            }
          } catch {
            note(`bad request: ${line.slice(0, 100)}`);
          }
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(join(dir, SHIM_FILES.socket), resolve));
    process.on('SIGTERM', () => void running.stop().catch(() => {}));
    process.on('SIGINT', () => {});
    process.on('SIGHUP', () => {});
    let exit: ShimExit;
    try {
      const r = await running.wait();
      exit = { exitCode: r.exitCode, guestError: r.guestError, finishedAt: new Date().toISOString() };
    } catch (e) {
      const h = HyprError.from(e);
      exit = { exitCode: 255, error: h.message, finishedAt: new Date().toISOString() };
    }
    out.flush();
    err.flush();
    finish(exit);
    server.close();
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

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: hypr-shim DIR (started by hyprd)\n');
  process.exit(2);
}
main(dir).then((code) => setTimeout(() => process.exit(code), 50));
