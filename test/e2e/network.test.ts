/**
 * Networking through the CLI and the daemon: hyprd runs inside a network namespace this test
 * creates (its bridges, TAPs, nft table, DNS servers and published ports live there), the CLI talks
 * to it over its Unix socket. The image comes in with `hypr load` (the test registry listens on the
 * root namespace's loopback, which hyprd cannot reach from inside). Two VMs in all.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { buildBusyboxImage, writeTestOciLayout } from '../../packages/core/test/helpers/busybox-image.js';
import { assertVmPrerequisites } from '../../packages/core/test/helpers/vm.js';
import { HYPRD, hypr, hyprOk } from './helpers.js';

// Each CLI call starts a node process (seconds on a loaded 2-core host), and VMs boot under TCG.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const NS = `hypr-e2e-${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const IMAGE = 'hypr-e2e/netbox:latest';
let dir: string;
let proc: ChildProcess | undefined;
let exited: Promise<number | null>;
let d: { host: string };
let logPath: string;

const inNs = (cmd: string, args: string[]) =>
  execFileSync('ip', ['netns', 'exec', NS, cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const links = (prefix: string): string[] =>
  (JSON.parse(execFileSync('ip', ['-n', NS, '-j', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string }[])
    .map((l) => l.ifname)
    .filter((n) => n.startsWith(prefix));
const nftTables = () => inNs('nft', ['list', 'tables']);

async function startDaemonInNs(): Promise<void> {
  logPath = join(dir, 'hyprd.log');
  const socket = join(dir, 'hyprd.sock');
  const fd = openSync(logPath, 'a');
  proc = spawn('ip', ['netns', 'exec', NS, process.execPath, HYPRD, '-H', `unix://${socket}`], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HYPR_HOME: join(dir, 'home'), HYPR_LOG_LEVEL: 'debug' },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const p = proc;
  exited = new Promise((r) => p.once('exit', (code) => r(code)));
  const deadline = Date.now() + 30_000;
  while (!(existsSync(socket) && readFileSync(logPath, 'utf8').includes('hyprd listening'))) {
    if (p.exitCode !== null || Date.now() > deadline)
      throw new Error(`hyprd did not start:\n${readFileSync(logPath, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  d = { host: `unix://${socket}` };
}

async function stopDaemon(): Promise<number | null> {
  if (!proc || proc.exitCode !== null) return proc?.exitCode ?? null;
  proc.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000))]);
  if (code === 'timeout') {
    proc.kill('SIGKILL');
    return exited;
  }
  return code;
}

beforeAll(async () => {
  assertVmPrerequisites();
  dir = await mkdtemp(join(tmpdir(), 'hypr-e2e-net-'));
  execFileSync('ip', ['netns', 'add', NS]);
  execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
  // The image as an OCI archive named for `hypr load`.
  const image = await buildBusyboxImage({
    config: { Cmd: ['sh'], Env: ['PATH=/bin'], ExposedPorts: { '80/tcp': {} } },
  });
  const layout = join(dir, 'layout');
  await writeTestOciLayout(layout, image);
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  index.manifests[0].annotations['io.containerd.image.name'] = IMAGE;
  await writeFile(join(layout, 'index.json'), JSON.stringify(index));
  execFileSync('tar', ['-cf', join(dir, 'image.tar'), '-C', layout, '.']);
  await startDaemonInNs();
  await hyprOk(d, ['load', '-i', join(dir, 'image.tar')]);
});

afterAll(async () => {
  try {
    if (proc && proc.exitCode === null) {
      await hypr(d, ['rm', '-f', 'web'], { timeoutMs: 30_000 }).catch(() => {});
      await stopDaemon();
    }
  } finally {
    // Deleting the namespace takes its bridges, TAPs and nft table with it, whatever the test left.
    try {
      execFileSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  }
});

const inspect = async (name: string) => JSON.parse(await hyprOk(d, ['inspect', name]))[0];

describe('networks through hypr', () => {
  test('network create, ls and inspect; the default network is "bridge"', async () => {
    const id = (
      await hyprOk(d, ['network', 'create', '--subnet', '10.123.0.0/24', '--label', 'e2e=1', 'e2enet'])
    ).trim();
    expect(id).toMatch(/^[a-f0-9]{64}$/);
    const ls = await hyprOk(d, ['network', 'ls']);
    expect(ls).toMatch(/^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/m);
    expect(ls).toMatch(/\sbridge\s+bridge\s+local$/m);
    expect(ls).toMatch(/\se2enet\s+bridge\s+local$/m);
    expect(await hyprOk(d, ['network', 'ls', '-q', '--filter', 'label=e2e'])).toBe(`${id.slice(0, 12)}\n`);
    const [doc] = JSON.parse(await hyprOk(d, ['network', 'inspect', 'e2enet']));
    expect(doc).toMatchObject({
      Name: 'e2enet',
      Id: id,
      Driver: 'bridge',
      IPAM: { Config: [{ Subnet: '10.123.0.0/24', Gateway: '10.123.0.1' }] },
      Labels: { e2e: '1' },
    });
    expect(links('hypr-')).toContain(doc.Options['com.docker.network.bridge.name']);
    const dup = await hypr(d, ['network', 'create', '--subnet', '10.123.0.128/25', 'other']);
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toContain('overlaps 10.123.0.0/24 of network e2enet');
  });

  test('-p serves busybox httpd to a client in the namespace; containers reach each other by name and alias', async () => {
    await hyprOk(d, [
      'run',
      '-d',
      '--name',
      'web',
      '--network',
      'e2enet',
      '--network-alias',
      'www',
      '-p',
      '127.0.0.1:8080:80',
      IMAGE,
      'sh',
      '-c',
      'mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 80 -h /www',
    ]);
    const body = await waitForOk(() =>
      inNs('timeout', ['5', 'busybox', 'wget', '-q', '-O', '-', 'http://127.0.0.1:8080/']),
    );
    expect(body).toBe('hello-from-web\n');

    const info = await inspect('web');
    const ip = info.NetworkSettings.Networks.e2enet.IPAddress;
    expect(ip).toMatch(/^10\.123\.0\.\d+$/);
    expect(info).toMatchObject({
      HostConfig: { NetworkMode: 'e2enet' },
      NetworkSettings: {
        Ports: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] },
        Networks: { e2enet: { Gateway: '10.123.0.1', Aliases: ['www'] } },
      },
    });
    expect(await hyprOk(d, ['port', 'web'])).toBe('80/tcp -> 127.0.0.1:8080\n');
    expect(await hyprOk(d, ['port', 'web', '80'])).toBe('127.0.0.1:8080\n');
    expect(await hyprOk(d, ['ps', '--format', '{{.Names}} {{.Ports}}'])).toBe('web 127.0.0.1:8080->80/tcp\n');

    const peer = await hypr(d, [
      'run',
      '--rm',
      '--network',
      'e2enet',
      IMAGE,
      'sh',
      '-c',
      // busybox wget's -T crashes the busybox-static of Debian 12; hypr()'s timeout bounds the run
      'wget -q -O - http://web/ && wget -q -O - http://www/ && ping -c 1 -W 3 web >/dev/null && echo pinged',
    ]);
    expect(peer.stderr).toBe('');
    expect(peer.stdout).toBe('hello-from-web\nhello-from-web\npinged\n');
    expect(peer.code).toBe(0);
    // the peer's lease and TAP went with it
    expect(links('hyprt')).toHaveLength(1);
  });

  test('a host port in use is a clear error and leaves no container, TAP or lease behind', async () => {
    const r = await hypr(d, ['run', '-d', '--name', 'clash', '--network', 'e2enet', '-p', '127.0.0.1:8080:80', IMAGE]);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('host port 127.0.0.1:8080/tcp is already in use');
    expect(await hyprOk(d, ['ps', '-a', '--format', '{{.Names}}'])).toBe('web\n');
    expect(links('hyprt')).toHaveLength(1);
    const [doc] = JSON.parse(await hyprOk(d, ['network', 'inspect', 'e2enet']));
    expect(Object.values(doc.Containers).map((c) => (c as { Name: string }).Name)).toEqual(['web']);
  });

  test('network rm of a network in use fails naming the container; after rm -f it goes', async () => {
    const r = await hypr(d, ['network', 'rm', 'e2enet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/network e2enet .*has active endpoints \(web\)/);
    expect((await hypr(d, ['network', 'rm', 'bridge'])).stderr).toContain('pre-defined network');
    await hyprOk(d, ['rm', '-f', 'web']);
    expect(links('hyprt')).toEqual([]);
    expect(await hyprOk(d, ['network', 'rm', 'e2enet'])).toBe('e2enet\n');
    expect(await hyprOk(d, ['network', 'ls', '--format', '{{.Name}}'])).toBe('bridge\n');
    expect((await hypr(d, ['run', '--rm', '--network', 'nope', IMAGE, 'true'])).stderr).toContain(
      'network nope not found',
    );
  });

  test('a graceful stop leaves no bridge, TAP or nft table in the namespace', async () => {
    expect(nftTables()).toContain('table ip hypr');
    expect(await stopDaemon()).toBe(0);
    expect(links('hypr')).toEqual([]);
    expect(nftTables()).not.toContain('hypr');
  });
});

async function waitForOk(fn: () => string, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}
