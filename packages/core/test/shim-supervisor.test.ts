/**
 * hypr-shim (shim/, the C per-container supervisor) on its own, against a FAKE hypervisor
 * (helpers/fake-hypervisor.mjs) that connects to the channel sockets as QEMU does and plays
 * Kestrel on them. What is asserted is what a user of the shim notices: the log, exit.json, the
 * frames on shim.sock, the processes. shim.test.ts runs the shim with a real VM.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HyprError } from '../src/errors.js';
import { verifyGuest } from '../src/paths.js';
import { findShimBinary } from '../src/vmm/shim-binary.js';
import { processStartTicks } from '../src/vmm/shim-processes.js';

const repo = resolve(fileURLToPath(import.meta.url), '../../../..');
const SHIM = join(repo, 'shim/out/hypr-shim');
const FAKE = join(repo, 'packages/core/test/helpers/fake-hypervisor.mjs');
const CHANNELS = ['control', 'stdout', 'stderr', 'exec', 'stdin'];
const LOG_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

type Step = Record<string, unknown>;
let work: string;
const started: ChildProcess[] = [];

beforeAll(() => {
  // make rebuilds only what changed; CI has built it in setup already.
  execFileSync('bash', [join(repo, 'scripts/build-shim.sh')], { stdio: 'pipe' });
  // Short: the channel sockets' paths must fit a sockaddr_un (108 bytes).
  work = mkdtempSync(join(tmpdir(), 'hs-'));
});
afterAll(() => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

async function waitFor<T>(f: () => T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Launched {
  dir: string;
  proc: ChildProcess;
  /** Resolves when the shim wrote "ready" on fd 3; rejects when it exits first. */
  ready: Promise<void>;
  exited: Promise<number | null>;
}

function launch(
  name: string,
  opts: { steps?: Step[]; records?: string[]; fake?: boolean; env?: NodeJS.ProcessEnv } = {},
): Launched {
  const dir = join(work, name);
  mkdirSync(dir);
  const records =
    opts.fake === false
      ? (opts.records ?? [])
      : [
          `V=${process.execPath}`,
          `v=${FAKE}`,
          `v=${dir}`,
          `v=${JSON.stringify(opts.steps ?? [])}`,
          `H=${dir}/hypervisor.log`,
          `K=${dir}/console.log`,
          'N=fake-vmm',
          ...CHANNELS.map((c) => `c=${c}\t${dir}/${c}.sock`),
          ...(opts.records ?? []),
        ];
  writeFileSync(join(dir, 'shim.args'), records.map((r) => `${r}\0`).join(''));
  const proc = spawn(SHIM, [dir], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'], env: opts.env });
  started.push(proc);
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const ready = new Promise<void>((res, rej) => {
    let got = '';
    proc.stdio[3]?.on('data', (b: Buffer) => {
      got += b.toString();
      if (got === 'ready\n') res();
    });
    void exited.then(() => rej(new Error(`the shim exited before ready: ${readText(dir, 'shim.log')}`)));
  });
  ready.catch(() => {});
  return { dir, proc, ready, exited };
}

async function startShim(name: string, steps: Step[], records: string[] = []): Promise<Launched> {
  const l = launch(name, { steps, records });
  await l.ready;
  return l;
}

const readText = (dir: string, file: string) =>
  existsSync(join(dir, file)) ? readFileSync(join(dir, file), 'utf8') : '';
const readJson = (dir: string, file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8'));
const seen = (dir: string) => readText(dir, 'fake-seen.log').split('\n').filter(Boolean);

interface LogEntry {
  log: string;
  stream: string;
  time: string;
}
const logEntries = (dir: string): LogEntry[] =>
  readText(dir, 'container.log')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogEntry);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]);
}

interface Frame {
  type: string;
  id: number;
  payload: Buffer;
}

/** A client of shim.sock: frames as in PROTOCOL.md, everything received kept in order. */
class Client {
  readonly frames: Frame[] = [];
  readonly closed: Promise<void>;
  private pending = Buffer.alloc(0);
  private constructor(readonly sock: Socket) {
    this.closed = new Promise((r) => sock.on('close', () => r()));
    sock.on('error', () => {});
  }

  /** reading: false leaves the socket unread (a client that does not keep up) until read() is called. */
  static connect(dir: string, reading = true): Promise<Client> {
    return new Promise((res, rej) => {
      const sock = connect(join(dir, 'shim.sock'), () => res(client));
      const client = new Client(sock);
      sock.once('error', rej);
      if (reading) client.read();
    });
  }

  read(): void {
    this.sock.on('data', (b: Buffer) => {
      this.pending = Buffer.concat([this.pending, b]);
      while (this.pending.length >= 4) {
        const n = this.pending.readUInt16BE(2);
        if (this.pending.length < 4 + n) break;
        this.frames.push({
          type: String.fromCharCode(this.pending[0]),
          id: this.pending[1],
          payload: Buffer.from(this.pending.subarray(4, 4 + n)),
        });
        this.pending = this.pending.subarray(4 + n);
      }
    });
  }

  send(type: string, id = 0, payload: string | Buffer = ''): void {
    const p = Buffer.from(payload);
    this.sock.write(Buffer.concat([Buffer.from([type.charCodeAt(0), id, p.length >> 8, p.length & 255]), p]));
  }

  waitFrame(pred: (f: Frame) => boolean, what: string): Promise<Frame> {
    return waitFor(() => this.frames.find(pred), what);
  }

  output(type: string, id?: number): string {
    return Buffer.concat(
      this.frames.filter((f) => f.type === type && (id === undefined || f.id === id)).map((f) => f.payload),
    ).toString('utf8');
  }
}

const STARTED = (pid: number) => ({ out: 'control', text: `[HYPR-STARTED] ${pid}\n` });
const EXIT = (code: number) => ({ out: 'control', text: `[HYPR-EXIT] ${code}\n` });

describe('hypr-shim with a fake hypervisor', () => {
  test('writes the output to container.log as docker json-file, then exit.json', async () => {
    const s = await startShim('log', [
      { out: 'control', text: '[HYPR-READY] kestrel 0.1.0\n' },
      { out: 'stdout', text: 'hello\npar' },
      { wait: 100 },
      { out: 'stdout', text: 'tial\n' },
      { out: 'stderr', text: 'warn\n' },
      { out: 'stdout', text: `${'a'.repeat(20000)}\n` },
      { out: 'stdout', hex: 'ff206f6b0a' },
      { out: 'stdout', text: '\x01\t\x1b[31mred\r\n' },
      { out: 'stdout', text: `${'b'.repeat(16383)}€\n` },
      EXIT(0),
      { out: 'stdout', text: 'last words' },
      { exit: 0 },
    ]);
    // Ready on fd 3 means every socket is there for hyprd to connect to.
    for (const name of ['shim.sock', ...CHANNELS.map((c) => `${c}.sock`)])
      expect(statSync(join(s.dir, name)).isSocket()).toBe(true);
    expect(await s.exited).toBe(0);
    const entries = logEntries(s.dir);
    for (const e of entries) expect(e.time).toMatch(LOG_TIME);
    expect(entries.filter((e) => e.stream === 'stderr').map((e) => e.log)).toEqual(['warn\n']);
    expect(entries.filter((e) => e.stream === 'stdout').map((e) => e.log)).toEqual([
      'hello\n',
      'partial\n',
      'a'.repeat(16384), // docker's json-file splits a line at 16 KiB
      `${'a'.repeat(20000 - 16384)}\n`,
      '\ufffd ok\n',
      '\x01\t\x1b[31mred\r\n',
      'b'.repeat(16383), // never in the middle of a UTF-8 character
      '€\n',
      'last words', // the partial last line, at the end
    ]);
    expect(readText(s.dir, 'container.log')).toContain('"\\u0001\\t\\u001b[31mred\\r\\n"');
    const exit = readJson(s.dir, 'exit.json');
    expect(Object.keys(exit)).toEqual(['exitCode', 'finishedAt']);
    expect(exit.exitCode).toBe(0);
    expect(exit.finishedAt).toMatch(ISO_MS);
    expect(statSync(join(s.dir, 'container.log')).mode & 0o777).toBe(0o600);
    for (const name of ['shim.sock', ...CHANNELS.map((c) => `${c}.sock`), 'exit.json.tmp'])
      expect(existsSync(join(s.dir, name))).toBe(false);
  });

  const exits: [string, Step[], object][] = [
    [
      'the exit code Kestrel reported, with its error',
      [{ out: 'control', text: '[HYPR-ERROR] nope: not found\n' }, EXIT(127), { exit: 0 }],
      { exitCode: 127, guestError: 'nope: not found' },
    ],
    [
      'a hypervisor that failed, with its last line',
      [{ say: 'fake-vmm: warming up\nfake-vmm: could not open /dev/kvm\n\n' }, { exit: 3 }],
      { exitCode: 255, error: 'fake-vmm failed (exit 3): fake-vmm: could not open /dev/kvm' },
    ],
    [
      'a hypervisor killed by a signal',
      [{ kill: 'SIGKILL' }],
      { exitCode: 255, error: 'fake-vmm failed (SIGKILL): no message' },
    ],
    [
      'a kernel panic on the console',
      [
        { console: '[    0.5] booting\n[    1.2] Kernel panic - not syncing: VFS: Unable to mount root fs  \nmore\n' },
        { exit: 0 },
      ],
      { exitCode: 255, error: 'the guest kernel panicked: Kernel panic - not syncing: VFS: Unable to mount root fs' },
    ],
    [
      'a VM that ended without an exit status',
      [{ out: 'control', text: '[HYPR-ERROR] bad rootfs\n' }, { exit: 0 }],
      { exitCode: 255, error: 'the VM ended without reporting an exit status: bad rootfs' },
    ],
  ];
  test.each(exits)('exit.json: %s', async (_, steps, want) => {
    const s = await startShim(`exit-${exits.findIndex((e) => e[1] === steps)}`, steps);
    expect(await s.exited).toBe(0);
    const exit = readJson(s.dir, 'exit.json');
    expect(exit).toEqual({ ...want, finishedAt: exit.finishedAt });
  });

  test('a stop whose grace runs out kills the hypervisor: 137', async () => {
    const s = await startShim('stop-kill', [STARTED(9), { until: 'control', line: 'STOP' }, { hang: true }]);
    const c = await Client.connect(s.dir);
    await c.waitFrame((f) => f.type === 'U', 'U');
    c.send('t', 0, 'TERM 300');
    c.sock.end(); // half-closed: it still hears the exit
    const x = await c.waitFrame((f) => f.type === 'X', 'X');
    expect(seen(s.dir)).toContain('control STOP TERM 300');
    expect(JSON.parse(x.payload.toString())).toMatchObject({ exitCode: 137 });
    expect(readJson(s.dir, 'exit.json').exitCode).toBe(137);
    expect(await s.exited).toBe(0);
  });

  test('SIGTERM is a stop with the G grace', async () => {
    const s = await startShim(
      'sigterm',
      [STARTED(9), { until: 'control', line: 'STOP TERM 1234' }, EXIT(143), { exit: 0 }],
      ['G=1234'],
    );
    await waitFor(() => seen(s.dir).includes('started'), 'the hypervisor');
    s.proc.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(readJson(s.dir, 'exit.json').exitCode).toBe(143);
  });

  test('state.json names the shim and the hypervisor while they run', async () => {
    const s = await startShim('state', [STARTED(9), { until: 'control', line: 'STOP' }, EXIT(0), { exit: 0 }]);
    const state = await waitFor(() => {
      const st = readJson(s.dir, 'state.json');
      return st.vmPid ? st : undefined;
    }, 'vmPid');
    expect(state.pid).toBe(s.proc.pid);
    expect(state.pidStartTicks).toBe(processStartTicks(state.pid));
    expect(state.vmStartTicks).toBe(processStartTicks(state.vmPid));
    expect(state.startedAt).toMatch(ISO_MS);
    expect(readFileSync(`/proc/${state.vmPid}/cmdline`, 'utf8')).toContain('fake-hypervisor.mjs');
    // hyprd finds a shim by its argv: `hypr-shim DIR`.
    expect(readFileSync(`/proc/${state.pid}/cmdline`, 'utf8').split('\0').filter(Boolean)).toEqual([SHIM, s.dir]);
    // An idle shim costs what conmon costs: well under 2 MiB.
    expect(rssKiB(state.pid)).toBeLessThan(2048);
    const c = await Client.connect(s.dir);
    c.send('t', 0, 'TERM 1000');
    expect(await s.exited).toBe(0);
    expect(alive(state.vmPid)).toBe(false);
  });

  test('clients get U, attached output, stdin, control lines and X', async () => {
    const s = await startShim('frames', [
      { until: 'control', line: 'GO' },
      STARTED(42),
      { out: 'stdout', text: 'out1\n' },
      { out: 'stderr', text: 'err1\n' },
      { until: 'stdin', text: 'ping' },
      { out: 'stdout', text: 'got ping\n' },
      { until: 'stdin-eof' },
      EXIT(5),
      { exit: 0 },
    ]);
    const a = await Client.connect(s.dir);
    const b = await Client.connect(s.dir);
    a.send('a');
    a.send('k', 0, 'GO\n');
    for (const c of [a, b]) expect((await c.waitFrame((f) => f.type === 'U', 'U')).payload.toString()).toBe('42');
    await waitFor(() => a.output('1') === 'out1\n' && a.output('2') === 'err1\n', 'the output');
    // A client that connects once the program runs hears U at once.
    const late = await Client.connect(s.dir);
    expect((await late.waitFrame(() => true, 'a frame')).type).toBe('U');
    a.send('i', 0, 'ping');
    await waitFor(() => a.output('1').endsWith('got ping\n'), 'the answer');
    a.send('c');
    const x = await a.waitFrame((f) => f.type === 'X', 'X');
    await Promise.all([a.closed, b.closed, late.closed]);
    expect(x.payload.toString()).toBe(readText(s.dir, 'exit.json'));
    expect(JSON.parse(x.payload.toString()).exitCode).toBe(5);
    for (const c of [a, b, late]) expect(c.frames.at(-1)?.type).toBe('X');
    expect(b.frames.map((f) => f.type)).toEqual(['U', 'X']); // not attached: no output
    expect(seen(s.dir)).toEqual(expect.arrayContaining(['control GO', 'stdin 70696e67', 'stdin-eof']));
  });

  test('exec sessions: each client keeps its own ids; at most 16 run; a gone client’s are killed', async () => {
    const s = await startShim('exec', [
      { exec: true },
      STARTED(1),
      { until: 'control', line: 'DONE' },
      EXIT(0),
      { exit: 0 },
    ]);
    const a = await Client.connect(s.dir);
    const b = await Client.connect(s.dir);
    a.send('O', 0, 'A=echo\0A=from-a\0');
    b.send('O', 0, 'A=echo\0A=from-b\0');
    for (const [c, word] of [
      [a, 'from-a'],
      [b, 'from-b'],
    ] as const) {
      await c.waitFrame((f) => f.type === 'x' && f.id === 0, 'x');
      expect(c.output('o', 0)).toBe(`${word}\n`);
      expect(c.frames.filter((f) => f.type !== 'U').map((f) => [f.type, f.id])).toEqual([
        ['P', 0],
        ['o', 0],
        ['e', 0],
        ['x', 0],
      ]);
    }
    // The guest saw two different session ids.
    const opened = seen(s.dir).filter((l) => l.startsWith('exec O '));
    expect(new Set(opened.map((l) => l.split(' ')[2])).size).toBe(2);

    for (let id = 1; id <= 16; id++) a.send('O', id, 'A=sleep\0A=1000\0');
    await waitFor(() => a.frames.filter((f) => f.type === 'P').length === 17, '16 sessions started');
    a.send('O', 17, 'A=sleep\0');
    const refused = await a.waitFrame((f) => f.type === 'x' && f.id === 17, 'x of the 17th');
    expect(refused.payload.toString()).toBe('126');
    expect(a.output('E', 17)).toBe('at most 16 exec sessions can run at once');

    a.sock.destroy();
    await waitFor(() => seen(s.dir).filter((l) => / S \d+ KILL$/.test(l)).length === 16, 'S KILL for each session');
    b.send('O', 5, 'A=cat\0');
    await b.waitFrame((f) => f.type === 'P' && f.id === 5, 'P');
    b.send('I', 5, 'typed');
    await waitFor(() => b.output('o', 5) === 'typed', 'the echo');
    b.send('C', 5);
    expect((await b.waitFrame((f) => f.type === 'x' && f.id === 5, 'x')).payload.toString()).toBe('0');
    b.send('k', 0, 'DONE\n');
    expect(await s.exited).toBe(0);
  });

  test.each([
    ['with B=1 the first attach gets the output from before it', ['B=1'], 'early line\n'],
    ['without B an attach gets only what follows', [], ''],
  ])('%s', async (_, records, want) => {
    const s = await startShim(
      `early-${records.length}`,
      [{ out: 'stdout', text: 'early line\n' }, STARTED(3), { until: 'control', line: 'BYE' }, EXIT(0), { exit: 0 }],
      records,
    );
    await waitFor(() => logEntries(s.dir).length === 1, 'the early line in the log');
    const first = await Client.connect(s.dir);
    await first.waitFrame((f) => f.type === 'U', 'U');
    first.send('a');
    const second = await Client.connect(s.dir);
    second.send('a');
    first.send('k', 0, 'BYE\n');
    await Promise.all([first.closed, second.closed]);
    expect(first.output('1')).toBe(want);
    expect(second.output('1')).toBe('');
  });

  test('a kill -9 of the shim takes the hypervisor with it', async () => {
    const s = await startShim('pdeathsig', [STARTED(1), { hang: true }]);
    const state = await waitFor(() => {
      const st = readJson(s.dir, 'state.json');
      return st.vmPid ? st : undefined;
    }, 'vmPid');
    expect(alive(state.vmPid)).toBe(true);
    s.proc.kill('SIGKILL');
    await waitFor(() => !alive(state.vmPid), 'the hypervisor to end');
  });

  test('the hypervisor inherits stdin, stdout and stderr only', async () => {
    const dir = join(work, 'fds');
    mkdirSync(dir);
    const records = ['V=/bin/sleep', 'v=1000', `H=${dir}/hypervisor.log`, `c=control\t${dir}/control.sock`];
    writeFileSync(join(dir, 'shim.args'), records.map((r) => `${r}\0`).join(''));
    // fd 4: something the shim's parent left open, which the hypervisor must not hold for its life.
    const proc = spawn(SHIM, [dir], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
    started.push(proc);
    const state = await waitFor(() => {
      const st = existsSync(join(dir, 'state.json')) ? readJson(dir, 'state.json') : undefined;
      return st?.vmPid ? st : undefined;
    }, 'vmPid');
    // sleep itself may have a locale file open for a moment: pipes, sockets and DIR's files are ours.
    const leaked = readdirSync(`/proc/${state.vmPid}/fd`)
      .filter((fd) => Number(fd) > 2)
      .map((fd) => {
        try {
          return readlinkSync(`/proc/${state.vmPid}/fd/${fd}`);
        } catch {
          return ''; // closed meanwhile
        }
      })
      .filter((target) => /^(pipe|socket):/.test(target) || target.startsWith(dir));
    expect(leaked).toEqual([]);
    expect(readlinkSync(`/proc/${state.vmPid}/fd/1`)).toBe(`${dir}/hypervisor.log`);
    proc.kill('SIGKILL');
    await waitFor(() => !alive(state.vmPid), 'the hypervisor to end');
  });

  test('the hypervisor gets one malloc arena; HYPR_VMM_THP=off turns its huge pages off', async () => {
    const { HYPR_VMM_THP, ...env } = process.env;
    const hypervisor = async (name: string, thp?: string) => {
      const s = launch(name, {
        fake: false,
        records: ['V=/bin/sleep', 'v=1000', `H=${work}/${name}.log`],
        env: thp ? { ...env, HYPR_VMM_THP: thp } : env,
      });
      const { vmPid } = await waitFor(() => {
        const st = existsSync(join(s.dir, 'state.json')) ? readJson(s.dir, 'state.json') : undefined;
        return st?.vmPid ? st : undefined;
      }, 'vmPid');
      const environ = readFileSync(`/proc/${vmPid}/environ`, 'utf8').split('\0');
      const thpEnabled = /THP_enabled:\s+(\d)/.exec(readFileSync(`/proc/${vmPid}/status`, 'utf8'))?.[1];
      s.proc.kill('SIGKILL');
      await waitFor(() => !alive(vmPid), 'the hypervisor to end');
      return { environ, thpEnabled };
    };
    const plain = await hypervisor('thp-default');
    expect(plain.environ).toEqual(expect.arrayContaining(['MALLOC_ARENA_MAX=1', 'G_SLICE=always-malloc']));
    expect(plain.thpEnabled).toBe('1');
    expect((await hypervisor('thp-off', 'off')).thpEnabled).toBe('0');
    const bad = launch('thp-bad', {
      fake: false,
      records: ['V=/bin/sleep', 'v=1000'],
      env: { ...env, HYPR_VMM_THP: 'maybe' },
    });
    expect(await bad.exited).toBe(1);
    expect(readJson(bad.dir, 'exit.json')).toMatchObject({
      exitCode: 255,
      error: "HYPR_VMM_THP=maybe in hyprd's environment is neither on nor off",
    });
  });

  test('a client that does not read holds the output back instead of growing the shim', async () => {
    const lines = 80_000;
    const s = await startShim('flow', [
      STARTED(1),
      { until: 'control', line: 'GO' },
      { big: 'stdout', lines, width: 100 },
      EXIT(0),
      { exit: 0 },
    ]);
    const slow = await Client.connect(s.dir, false);
    slow.send('a');
    slow.send('k', 0, 'GO\n');
    const logSize = () => (existsSync(join(s.dir, 'container.log')) ? statSync(join(s.dir, 'container.log')).size : 0);
    await waitFor(() => logSize() > 256 * 1024, 'some output');
    // Watched for 3 s (or until the fake got rid of everything, which only a shim without flow
    // control allows): 8 MB of output, 13 MB of log, held back at the client's 256 KiB.
    let maxRss = 0;
    for (const end = Date.now() + 3000; Date.now() < end && !seen(s.dir).includes('big done'); ) {
      maxRss = Math.max(maxRss, rssKiB(s.proc.pid!));
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen(s.dir)).not.toContain('big done');
    expect(logSize()).toBeLessThan(4 << 20);
    expect(maxRss).toBeLessThan(4096);
    slow.read();
    await slow.closed;
    const got = slow.output('1').split('\n').filter(Boolean);
    expect(got.length).toBe(lines);
    got.forEach((l, i) => expect(l.slice(0, 8)).toBe(String(i).padStart(8, '0')));
    const logged = logEntries(s.dir);
    expect(logged.length).toBe(lines);
    expect(logged.at(-1)?.log.slice(0, 8)).toBe(String(lines - 1).padStart(8, '0'));
  });

  test('a channel to the guest that does not drain stops the shim reading its clients', async () => {
    const total = 8 << 20;
    const go = join(work, 'flow-in-go');
    const s = await startShim('flow-in', [
      STARTED(1),
      { pause: 'stdin' },
      { until: 'file', path: go },
      { resume: 'stdin' },
      { until: 'stdin-bytes', n: total },
      EXIT(0),
      { exit: 0 },
    ]);
    const c = await Client.connect(s.dir);
    await c.waitFrame((f) => f.type === 'U', 'U');
    const chunk = Buffer.alloc(60_000, 'y');
    for (let sent = 0; sent < total; sent += chunk.length) c.send('i', 0, chunk.subarray(0, total - sent));
    // Watched for 3 s: a shim without flow control would read all 8 MiB into itself in far less.
    let maxRss = 0;
    for (const end = Date.now() + 3000; Date.now() < end; ) {
      maxRss = Math.max(maxRss, rssKiB(s.proc.pid!));
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(maxRss).toBeLessThan(4096);
    writeFileSync(go, '');
    expect(await s.exited).toBe(0);
    expect(seen(s.dir)).toContain(`stdin-bytes ${total}`);
  });

  test('helpers start first; the hypervisor waits for their paths; they end after it', async () => {
    const dir = join(work, 'helpers');
    const script = `echo $$ > ${dir}/helper.pid; sleep 0.3; : > ${dir}/helper.sock; exec sleep 1000`;
    const s = await startShim(
      'helpers',
      [{ exists: `${dir}/helper.sock` }, STARTED(1), { until: 'control', line: 'STOP' }, EXIT(0), { exit: 0 }],
      ['F=/bin/sh', 'f=-c', `f=${script}`, `w=${dir}/helper.sock`],
    );
    await waitFor(() => seen(s.dir).includes(`exists ${dir}/helper.sock true`), 'the hypervisor');
    const helper = Number(readText(dir, 'helper.pid'));
    expect(alive(helper)).toBe(true);
    (await Client.connect(dir)).send('t', 0, 'TERM 1000');
    expect(await s.exited).toBe(0);
    expect(alive(helper)).toBe(false);
  });

  test('a helper that ends before serving fails the start', async () => {
    const dir = join(work, 'helper-fails');
    const s = launch('helper-fails', {
      steps: [EXIT(0)],
      records: ['F=/bin/sh', 'f=-c', 'f=exit 4', `w=${dir}/never.sock`],
    });
    expect(await s.exited).toBe(1);
    expect(readJson(dir, 'exit.json')).toMatchObject({
      exitCode: 255,
      error: `/bin/sh exited (exit 4) before it created ${dir}/never.sock`,
    });
    expect(seen(dir)).toEqual([]); // the hypervisor never started
  });

  test('a hypervisor that is not there fails the start with its name', async () => {
    const s = launch('no-vmm', { fake: false, records: ['V=/nonexistent/qemu-system-x86_64', 'N=qemu-system-x86_64'] });
    expect(await s.exited).toBe(1);
    expect(readJson(s.dir, 'exit.json')).toMatchObject({ exitCode: 255, error: 'qemu-system-x86_64: not found' });
  });

  test('a bad shim.args fails the start and names the file', async () => {
    const s = launch('bad-args', { fake: false, records: ['v=-m', 'c=console\t/tmp/x.sock'] });
    expect(await s.exited).toBe(1);
    const exit = readJson(s.dir, 'exit.json');
    expect(exit).toMatchObject({ exitCode: 255 });
    expect(exit.error).toBe(`${s.dir}/shim.args: channel 'console' is not one of control stdout stderr exec stdin`);
    expect(existsSync(join(s.dir, 'shim.sock'))).toBe(false);
  });
});

describe('finding hypr-shim', () => {
  test('HYPR_SHIM_BINARY first, then the checkout’s shim/out', () => {
    expect(findShimBinary({ HYPR_SHIM_BINARY: SHIM })).toBe(SHIM);
    expect(findShimBinary({})).toBe(SHIM);
    let err: unknown;
    try {
      findShimBinary({ HYPR_SHIM_BINARY: join(work, 'no-such-shim') });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HyprError);
    expect(err).toMatchObject({ code: 'SHIM_MISSING', message: expect.stringContaining('no-such-shim') });
  });

  test('a guest package whose manifest lists hypr-shim has it checked', () => {
    const dir = join(work, 'guest-package');
    mkdirSync(dir);
    const files: Record<string, string> = { vmlinux: 'K', kestrel: 'P', 'hypr-shim': 'S' };
    const manifest = { files: {} as Record<string, { sha256: string; sizeBytes: number }> };
    for (const [name, text] of Object.entries(files)) {
      writeFileSync(join(dir, name), text);
      manifest.files[name] = { sha256: createHash('sha256').update(text).digest('hex'), sizeBytes: text.length };
    }
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    expect(() => verifyGuest(dir, join(dir, 'manifest.json'), '@hypr/guest-linux-x64')).not.toThrow();
    writeFileSync(join(dir, 'hypr-shim'), 'tampered');
    expect(() => verifyGuest(dir, join(dir, 'manifest.json'), '@hypr/guest-linux-x64')).toThrow(
      /hypr-shim does not match @hypr\/guest-linux-x64's manifest/,
    );
  });
});
