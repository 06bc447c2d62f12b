import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connectShim, readShimExit, readShimState, startShim } from '../src/vmm/shim.js';
import { assertVmPrerequisites, isAlive, makeBusyboxRootfs } from './helpers/vm.js';

let rootfs: string;
let work: string;

beforeAll(async () => {
  assertVmPrerequisites();
  rootfs = await makeBusyboxRootfs();
  work = await mkdtemp(join(tmpdir(), 'hypr-shim-'));
});
afterAll(async () => {
  await rm(rootfs, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

async function waitFor<T>(f: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const logLines = async (dir: string) =>
  (await readFile(join(dir, 'container.log'), 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { log: string; stream: string; time: string });

describe('the container shim', () => {
  test('logs as docker json-file, stops gracefully, records the exit status', async () => {
    const dir = join(work, 'a');
    const shim = await startShim({
      dir,
      vm: { rootfs: { dir: rootfs }, argv: ['sh', '-c', 'echo hello; echo warn >&2; exec sleep 1000'], env: [] },
    });
    // The client knows the hypervisor's pid once the program runs (hyprd shows it as the container's).
    expect(shim.state.vmPid).not.toBe(shim.state.pid);
    expect(isAlive(shim.state.vmPid)).toBe(true);
    const lines = await waitFor(async () => {
      const l = await logLines(dir);
      return l.length >= 2 ? l : undefined;
    });
    expect(lines.map((l) => [l.stream, l.log]).sort()).toEqual([
      ['stderr', 'warn\n'],
      ['stdout', 'hello\n'],
    ]);
    expect(lines[0].time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    const exit = await shim.stop('SIGTERM', 3000);
    expect(exit.exitCode).toBe(143);
    expect(readShimExit(dir)?.exitCode).toBe(143);
    await waitFor(() => !isAlive(shim.state.pid) && !isAlive(shim.state.vmPid));
  });

  test('the VM outlives a kill -9 of the process that started it, and is re-adopted', async () => {
    const dir = join(work, 'b');
    const core = join(import.meta.dirname, '../dist/index.js');
    const script = `import(${JSON.stringify(core)}).then((c) => c.startShim({ dir: ${JSON.stringify(dir)}, vm: { rootfs: { dir: ${JSON.stringify(rootfs)} }, argv: ['sh', '-c', 'while true; do echo tick; sleep 1; done'], env: [] } })).then(() => { console.log('up'); setInterval(() => {}, 1000); });`;
    const owner = execFile(process.execPath, ['--input-type=module', '-e', script]);
    await new Promise<void>((resolve) => owner.stdout?.on('data', (d) => String(d).includes('up') && resolve()));
    owner.kill('SIGKILL');
    const killedAt = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 3000));
    const state = readShimState(dir);
    expect(isAlive(state?.vmPid)).toBe(true);
    // Nobody was connected meanwhile: the shim kept the log on its own.
    const whileDown = (await logLines(dir)).filter((l) => l.time > killedAt);
    expect(whileDown.length).toBeGreaterThanOrEqual(1);
    expect(whileDown.every((l) => l.log === 'tick\n' && l.stream === 'stdout')).toBe(true);
    const shim = await connectShim(dir);
    expect(shim).toBeDefined();
    const exit = await shim!.stop('SIGKILL', 1000);
    expect(exit.exitCode).toBe(137);
    await waitFor(() => !isAlive(state?.vmPid));
  });

  test('the exit status is written even when nobody is connected', async () => {
    const dir = join(work, 'c');
    const shim = await startShim({
      dir,
      vm: { rootfs: { dir: rootfs }, argv: ['sh', '-c', 'sleep 1; exit 4'], env: [] },
    });
    shim.close();
    const exit = await waitFor(() => readShimExit(dir));
    expect(exit.exitCode).toBe(4);
    expect(await connectShim(dir)).toBeUndefined();
  });

  test('exit.json is whole whenever it is there', async () => {
    const dir = join(work, 'h');
    const shim = await startShim({ dir, vm: { rootfs: { dir: rootfs }, argv: ['sh', '-c', 'exit 3'], env: [] } });
    shim.close();
    // Read it as fast as we can while the VM ends: it is missing or complete, never half written.
    let text: string | undefined;
    while (text === undefined) {
      try {
        text = await readFile(join(dir, 'exit.json'), 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    expect(JSON.parse(text)).toMatchObject({ exitCode: 3, finishedAt: expect.any(String) });
  });

  test('the client that started a shim tells one that ended by itself (all it started reaped) from one killed', async () => {
    const done = await startShim({
      dir: join(work, 'e1'),
      vm: { rootfs: { dir: rootfs }, argv: ['sh', '-c', 'sleep 1; exit 5'], env: [] },
    });
    expect((await done.wait()).exitCode).toBe(5);
    expect(await done.endedByItself()).toBe(true);
    expect(isAlive(done.state.pid) || isAlive(done.state.vmPid)).toBe(false);

    const killed = await startShim({
      dir: join(work, 'e2'),
      vm: { rootfs: { dir: rootfs }, argv: ['sleep', '600'], env: [] },
    });
    // A client that did not start the shim (a restarted hyprd) cannot tell: it says no.
    const adopted = await connectShim(join(work, 'e2'));
    expect(await adopted?.endedByItself()).toBe(false);
    adopted?.close();
    process.kill(killed.state.pid, 'SIGKILL');
    expect(await killed.endedByItself()).toBe(false);
    await waitFor(() => !isAlive(killed.state.vmPid));
  });

  test('with spareShim, the next start takes a shim made ahead of time; a spare that died is replaced', async () => {
    const vm = { rootfs: { dir: rootfs }, argv: ['true'], env: [] };
    /** This process's children waiting as spares (their command line says hypr-spare, not hypr-shim). */
    const spares = () =>
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            const ppid = Number(readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
            return ppid === process.pid && readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('hypr-spare\0');
          } catch {
            return false;
          }
        })
        .map(Number);
    const first = await startShim({ dir: join(work, 's1'), vm, spareShim: true });
    await first.wait();
    const [spare] = await waitFor(() => (spares().length ? spares() : undefined));
    const second = await startShim({ dir: join(work, 's2'), vm, spareShim: true });
    expect(second.state.pid).toBe(spare);
    // It became that container's shim: its command line names the directory, as findShimProcesses expects.
    expect(readFileSync(`/proc/${spare}/cmdline`, 'utf8')).toContain(join(work, 's2'));
    expect((await second.wait()).exitCode).toBe(0);
    expect(await second.endedByItself()).toBe(true);

    const [next] = await waitFor(() => (spares().length ? spares() : undefined));
    process.kill(next, 'SIGKILL');
    await waitFor(() => !isAlive(next));
    const third = await startShim({ dir: join(work, 's3'), vm, spareShim: true });
    expect(third.state.pid).not.toBe(next);
    expect((await third.wait()).exitCode).toBe(0);
  });

  test('a VM that cannot start is reported with its reason', async () => {
    const dir = join(work, 'd');
    await expect(
      startShim({ dir, vm: { rootfs: { dir: join(work, 'missing') }, argv: ['true'], env: [] } }),
    ).rejects.toThrow(/root filesystem directory .* does not exist/);
  });

  test('exec through the shim, and attach feeds stdin and streams output', async () => {
    const dir = join(work, 'e');
    const shim = await startShim({
      dir,
      vm: {
        rootfs: { dir: rootfs },
        argv: ['sh', '-c', 'while read l; do echo "echo:$l"; done; echo bye'],
        env: [],
        stdin: true,
      },
    });
    const out: string[] = [];
    const s = shim.exec({
      argv: ['sh', '-c', 'echo "in $(pwd)"; exit 5'],
      workdir: '/etc',
      onStdout: (b) => out.push(b.toString()),
    });
    expect(await s.wait()).toEqual({ exitCode: 5 });
    expect(out.join('')).toBe('in /etc\n');
    const missing = shim.exec({ argv: ['nope'] });
    expect(await missing.wait()).toMatchObject({ exitCode: 127, error: expect.stringMatching(/not found/) });

    let seen = '';
    const a = shim.attach({ onStdout: (b) => (seen += b.toString()) });
    a.write('one\ntwo\n');
    await waitFor(() => (seen.includes('echo:two') ? true : undefined));
    a.end();
    const exit = await shim.wait();
    expect(exit.exitCode).toBe(0);
    expect(seen).toBe('echo:one\necho:two\nbye\n');
    // A second client (the daemon after a restart) reads the same output from the log.
    expect((await logLines(dir)).map((l) => l.log).join('')).toBe('echo:one\necho:two\nbye\n');
  });

  test('pause, resume, stats and top through the shim; stop thaws a paused VM', async () => {
    const dir = join(work, 'g');
    const shim = await startShim({
      dir,
      vm: { rootfs: { dir: rootfs }, argv: ['sh', '-c', 'echo up; exec sleep 1000'], env: [] },
    });
    await waitFor(async () => ((await logLines(dir)).length >= 1 ? true : undefined));
    await shim.pause();
    expect(await shim.isPaused()).toBe(true);
    await shim.resume();
    expect(await shim.isPaused()).toBe(false);
    const stats = await shim.stats();
    expect(Array.isArray(stats.blockIo)).toBe(true);
    expect(stats.memory?.usedBytes).toBeGreaterThan(0);
    // "up" is logged before the shell execs sleep: ask until the exec has happened.
    const top = await waitFor(async () => {
      const t = await shim.top();
      return t.processes.some((p) => p[7] === 'sleep 1000') ? t : undefined;
    });
    expect(top.processes.map((p) => p[7])).toContain('sleep 1000');
    await shim.pause();
    expect((await shim.stop('SIGTERM', 3000)).exitCode).toBe(143);
    await expect(shim.pause()).rejects.toThrow(/exited/);
  });

  test('a program that ends before the first connection is an exit, not a failure', async () => {
    const dir = join(work, 'f');
    const shim = await startShim({ dir, vm: { rootfs: { dir: rootfs }, argv: ['true'], env: [] }, timeoutMs: 60_000 });
    expect((await shim.wait()).exitCode).toBe(0);
  });
});
