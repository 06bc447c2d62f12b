/**
 * hypr-runtime's command line as an engine drives it, without an engine: create → state → start →
 * exec → kill → delete on a busybox root filesystem directory, the program's output going to the
 * file create was given as its stdout, as conmon gives it a pipe.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { assertVmPrerequisites, makeBusyboxRootfs } from '../../core/test/helpers/vm.js';

const BIN = resolve(import.meta.dirname, '../bin/hypr-runtime.js');
let dir = '';
let root = '';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs hypr-runtime with --root. With `out`, its stdout and stderr are files (out, out.err), as an
 * engine hands `create` its pipes: the supervisor keeps them, so the command's end is its exit.
 */
function runtime(args: string[], opts: { out?: string } = {}): Promise<Ran> {
  return new Promise((done, reject) => {
    const files = opts.out ? [openSync(opts.out, 'a'), openSync(`${opts.out}.err`, 'a')] : undefined;
    const child = spawn(process.execPath, [BIN, '--root', root, ...args], {
      stdio: ['ignore', files?.[0] ?? 'pipe', files?.[1] ?? 'pipe'],
    });
    for (const fd of files ?? []) closeSync(fd);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.once('error', reject);
    child.once(opts.out ? 'exit' : 'close', (code) =>
      done({
        code,
        stdout: opts.out ? '' : Buffer.concat(out).toString('utf8'),
        stderr: opts.out ? readFileSync(`${opts.out}.err`, 'utf8') : Buffer.concat(err).toString('utf8'),
      }),
    );
  });
}

async function makeBundle(name: string, process: Record<string, unknown>, linux?: Record<string, unknown>) {
  const bundle = join(dir, name);
  await mkdir(bundle, { recursive: true });
  const rootfs = await makeBusyboxRootfs(bundle);
  const config = { ociVersion: '1.0.2', process, root: { path: rootfs }, ...(linux ? { linux } : {}) };
  await writeFile(join(bundle, 'config.json'), JSON.stringify(config));
  return bundle;
}

async function stateOf(id: string): Promise<{ status: string; pid: number }> {
  const r = await runtime(['state', id]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

async function waitForStatus(id: string, status: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if ((await stateOf(id)).status === status) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`container ${id} never became ${status}`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hypr-runtime-'));
  root = join(dir, 'state');
});

afterAll(async () => {
  for (const id of ['c-created', 'c-run', 'c-net']) await runtime(['delete', '--force', id]);
  await rm(dir, { recursive: true, force: true });
});

describe('hypr-runtime', () => {
  test('a bad config.json is refused at create, naming the file and key, in --log as JSON too', async () => {
    const bundle = await makeBundle('bad', { args: [] });
    const log = join(dir, 'log.json');
    const r = await runtime(['--log', log, '--log-format', 'json', 'create', '--bundle', bundle, 'c-bad']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(bundle, 'config.json')} process.args: is empty`);
    expect(JSON.parse(readFileSync(log, 'utf8').trim())).toMatchObject({ level: 'error', code: 'CONFIG_INVALID' });
    expect(existsSync(join(root, 'c-bad'))).toBe(false);
  });

  test('created, killed before start, deleted: the state follows, the pid file holds the pid', async () => {
    const bundle = await makeBundle('created', { args: ['true'], cwd: '/' });
    const pidFile = join(dir, 'created.pid');
    const r = await runtime(['create', '--bundle', bundle, '--pid-file', pidFile, 'c-created'], {
      out: join(dir, 'created.out'),
    });
    expect(r.code, r.stderr).toBe(0);
    const state = await stateOf('c-created');
    expect(state).toMatchObject({ id: 'c-created', status: 'created', bundle, ociVersion: '1.0.2' });
    expect(readFileSync(pidFile, 'utf8')).toBe(String(state.pid));
    expect((await runtime(['create', '--bundle', bundle, 'c-created'])).stderr).toContain('already exists');
    expect((await runtime(['kill', 'c-created', 'KILL'])).code).toBe(0);
    await waitForStatus('c-created', 'stopped');
    expect((await stateOf('c-created')).pid).toBe(0);
    expect((await runtime(['delete', 'c-created'])).code).toBe(0);
    const again = await runtime(['delete', 'c-created']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('container c-created does not exist');
    expect((await runtime(['delete', '--force', 'c-created'])).code).toBe(0);
  });

  test('start runs the program in a VM; pause, resume; exec runs another; kill ends it with 128+signal', async () => {
    assertVmPrerequisites();
    const bundle = await makeBundle('run', { args: ['sh', '-c', 'echo hello from the vm; exec sleep 600'], cwd: '/' });
    const out = join(dir, 'run.out');
    const created = await runtime(['create', '--bundle', bundle, 'c-run'], { out });
    expect(created.code, created.stderr).toBe(0);
    const started = await runtime(['start', 'c-run']);
    expect(started.code, started.stderr).toBe(0);
    expect((await stateOf('c-run')).status).toBe('running');
    expect((await runtime(['pause', 'c-run'])).code).toBe(0);
    expect((await stateOf('c-run')).status).toBe('paused');
    expect((await runtime(['exec', 'c-run', 'true'])).stderr).toContain('it is paused');
    expect((await runtime(['resume', 'c-run'])).code).toBe(0);
    const ps = await runtime(['ps', '--format', 'json', 'c-run']);
    expect(JSON.parse(ps.stdout)).toEqual([(await stateOf('c-run')).pid]);
    const exec = await runtime(['exec', 'c-run', 'sh', '-c', 'echo in the vm; exit 7']);
    expect(exec.stdout).toBe('in the vm\n');
    expect(exec.code).toBe(7);
    expect((await runtime(['kill', 'c-run', 'TERM'])).code).toBe(0);
    await waitForStatus('c-run', 'stopped');
    expect(readFileSync(out, 'utf8')).toContain('hello from the vm');
    expect(JSON.parse(readFileSync(join(root, 'c-run', 'exit.json'), 'utf8')).exitCode).toBe(143);
    expect((await runtime(['exec', 'c-run', 'true'])).stderr).toContain('it is stopped');
    expect((await runtime(['delete', 'c-run'])).code).toBe(0);
  }, 300_000);

  test("the VM takes over the address the engine gave its network namespace's veth", async () => {
    assertVmPrerequisites();
    // The engine's side, made by hand: a namespace holding eth0 (10.231.0.2/24), its peer in another.
    const ns = `hyprrtc${process.pid}`;
    const peer = `hyprrtp${process.pid}`;
    const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
    try {
      ip('netns', 'add', ns);
      ip('netns', 'add', peer);
      ip('-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'veth-peer', 'netns', peer);
      for (const [n, dev, addr] of [
        [ns, 'eth0', '10.231.0.2/24'],
        [peer, 'veth-peer', '10.231.0.1/24'],
      ]) {
        ip('-n', n, 'addr', 'add', addr, 'dev', dev);
        ip('-n', n, 'link', 'set', dev, 'up');
        ip('-n', n, 'link', 'set', 'lo', 'up');
      }
      ip('-n', ns, 'route', 'add', 'default', 'via', '10.231.0.1');
      const bundle = await makeBundle(
        'net',
        { args: ['sh', '-c', 'mkdir -p /w && echo hello-net > /w/index.html && exec httpd -f -p 8080 -h /w'] },
        { namespaces: [{ type: 'network', path: `/run/netns/${ns}` }] },
      );
      const created = await runtime(['create', '--bundle', bundle, 'c-net'], { out: join(dir, 'net.out') });
      expect(created.code, created.stderr).toBe(0);
      const started = await runtime(['start', 'c-net']);
      expect(started.code, started.stderr).toBe(0);
      let page = '';
      for (let i = 0; i < 300 && !page.includes('hello-net'); i++) {
        try {
          page = execFileSync('ip', ['netns', 'exec', peer, 'curl', '-sf', '-m', '5', 'http://10.231.0.2:8080/'], {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'ignore'],
          });
        } catch {
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      // On failure, say what the container printed and what the namespace saw.
      const diag = () =>
        readFileSync(join(dir, 'net.out.err'), 'utf8') +
        execFileSync('sh', ['-c', `ip -n ${ns} -s link; ip netns exec ${ns} tc -s filter show dev eth0 ingress`], {
          encoding: 'utf8',
        });
      expect(page, page.includes('hello-net') ? '' : diag()).toContain('hello-net');
      expect((await runtime(['kill', 'c-net', 'KILL'])).code).toBe(0);
      await waitForStatus('c-net', 'stopped');
      expect((await runtime(['delete', 'c-net'])).code).toBe(0);
      // The namespace is given back as it was: the TAP is gone.
      expect(() => ip('-n', ns, 'link', 'show', 'hyprtap0')).toThrow();
    } finally {
      for (const n of [ns, peer]) execFileSync('ip', ['netns', 'del', n], { stdio: 'ignore' });
    }
  }, 300_000);

  test('unknown commands and flags are named, with the nearest known one', async () => {
    const r = await runtime(['strat', 'x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown command "strat"');
    expect(r.stderr).toContain('did you mean start?');
    expect((await runtime(['create', '--bundel', '/b', 'x'])).stderr).toContain('did you mean --bundle?');
    expect((await runtime(['--version'])).stdout).toMatch(/^hypr-runtime version .*\nspec: 1\.0\.2\n$/);
  });
});
