import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type GuestVm, bootGuestVm } from '../src/vmm/guest-vm.js';
import { assertVmPrerequisites, makeBusyboxRootfs } from './helpers/vm.js';

let rootfs: string;
let vm: GuestVm;

beforeAll(async () => {
  assertVmPrerequisites();
  rootfs = await makeBusyboxRootfs();
  vm = await bootGuestVm({ rootfs: { dir: rootfs }, argv: ['sleep', '1000'], exec: true, env: ['FROM_IMAGE=yes'] });
});
afterAll(async () => {
  await vm?.destroy();
  await rm(rootfs, { recursive: true, force: true });
});

function collect(session: { wait(): Promise<{ exitCode: number; error?: string }> }, out: string[], err: string[]) {
  return session.wait().then((r) => ({ ...r, stdout: out.join(''), stderr: err.join('') }));
}

describe('exec into a running VM', () => {
  test('output, exit code, env, workdir and user of an exec', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const s = vm.exec({
      argv: ['sh', '-c', 'echo "$X $(pwd) $(id -u)"; echo oops >&2; exit 3'],
      env: ['X=1'],
      workdir: '/tmp',
      user: '1000',
      onStdout: (b) => out.push(b.toString()),
      onStderr: (b) => err.push(b.toString()),
    });
    expect(await s.started).toBeGreaterThan(1);
    expect(await collect(s, out, err)).toMatchObject({ exitCode: 3, stdout: '1 /tmp 1000\n', stderr: 'oops\n' });
  });

  test('stdin reaches the program and its end is seen', async () => {
    const out: string[] = [];
    const s = vm.exec({ argv: ['sh', '-c', 'cat; echo "<eof>"'], onStdout: (b) => out.push(b.toString()) });
    await s.started;
    s.write('hello ');
    s.write(Buffer.from('world\n'));
    s.end();
    expect(await collect(s, out, [])).toMatchObject({ exitCode: 0, stdout: 'hello world\n<eof>\n' });
  });

  test('a terminal: isatty, window size and resize', async () => {
    const out: string[] = [];
    let sized!: () => void;
    const firstSize = new Promise<void>((r) => {
      sized = r;
    });
    const s = vm.exec({
      argv: ['sh', '-c', 'tty; stty size; read line; stty size'],
      tty: { rows: 30, cols: 100 },
      onStdout: (b) => {
        out.push(b.toString());
        if (out.join('').includes('30 100')) sized();
      },
    });
    await s.started;
    await firstSize;
    s.resize(40, 120);
    s.write('go\r');
    const r = await collect(s, out, []);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^\/dev\/pts\/\d+\r\n30 100\r\n(go\r\n)?40 120\r\n$/);
  });

  test('several execs at once, and a missing program exits 127 with a reason', async () => {
    const outs: string[][] = [[], [], []];
    const sessions = outs.map((o, i) =>
      vm.exec({ argv: ['sh', '-c', `sleep 0.${i + 1}; echo ${i}`], onStdout: (b) => o.push(b.toString()) }),
    );
    const missing = vm.exec({ argv: ['no-such-tool'] });
    expect(await missing.wait()).toEqual({
      exitCode: 127,
      error: 'exec no-such-tool: executable file not found in $PATH',
    });
    const results = await Promise.all(sessions.map((s, i) => collect(s, outs[i], [])));
    expect(results.map((r) => r.stdout)).toEqual(['0\n', '1\n', '2\n']);
  });
});

describe('the main program with stdin and a terminal', () => {
  test('run -i: stdin is piped in and closed', async () => {
    const cat = await bootGuestVm({
      rootfs: { dir: rootfs },
      argv: ['sh', '-c', 'cat; echo done'],
      stdin: true,
      timeoutMs: 50_000,
    });
    cat.writeStdin('line one\nline two\n');
    cat.closeStdin();
    const r = await cat.wait();
    expect(r).toMatchObject({ exitCode: 0, stdout: 'line one\nline two\ndone\n' });
  });

  test('run -it: the program has a terminal of the given size', async () => {
    let seen = '';
    let ready!: () => void;
    const prompted = new Promise<void>((r) => {
      ready = r;
    });
    const t = await bootGuestVm({
      rootfs: { dir: rootfs },
      argv: ['sh', '-c', 'tty; stty size; read x; echo "got $x"'],
      stdin: true,
      tty: { rows: 25, cols: 90 },
      timeoutMs: 50_000,
      onStdout: (b) => {
        seen += b.toString();
        if (seen.includes('25 90')) ready();
      },
    });
    await prompted;
    t.writeStdin('abc\r');
    const r = await t.wait();
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^\/dev\/pts\/\d+\r\n25 90\r\n(abc\r\n)?got abc\r\n$/);
  });
});
