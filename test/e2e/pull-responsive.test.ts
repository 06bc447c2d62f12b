import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { type Daemon, type E2eEnv, HYPR, hypr, hyprOk, startDaemon, startE2eEnv, waitFor } from './helpers.js';

// VMs boot under TCG on a shared machine: allow for a slow, loaded host.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

// A pull of a large image downloads in a process of its own and makes its disk in a worker thread:
// hyprd keeps answering other calls all the while, and the image it stores is whole.

/**
 * A TCP proxy in front of the registry that stops passing the registry's answer on once `holdAfterBytes`
 * have gone through a connection, until `release()`: a pull through it is held mid-download for as long
 * as the test needs (no race with a fast machine).
 */
async function startGateProxy(target: { host: string; port: number }, holdAfterBytes: number) {
  let held = true;
  let heldOnce = false;
  const waiting = new Set<() => void>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    let passed = 0;
    // Gated: this connection went past holdAfterBytes while held and waits for release(). A pause for
    // the client's back-pressure alone ends at its drain, held or not (else a connection paused below
    // the threshold while another holds would never resume).
    let gated = false;
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      passed += chunk.length;
      if (!client.write(chunk)) upstream.pause();
      if (held && !gated && passed > holdAfterBytes) {
        heldOnce = true;
        gated = true;
        upstream.pause();
        waiting.add(() => {
          gated = false;
          upstream.resume();
        });
      }
    });
    client.on('drain', () => {
      if (!gated) upstream.resume();
    });
    upstream.on('end', () => client.end());
    for (const s of [client, upstream]) s.on('error', () => [client, upstream].forEach((x) => x.destroy()));
    for (const s of [client, upstream]) s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    isHolding: () => heldOnce,
    /** Holds again: connections opened from now on stop after `holdAfterBytes`. */
    hold() {
      held = true;
      heldOnce = false;
    },
    release() {
      held = false;
      for (const resume of waiting) resume();
      waiting.clear();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

const MiB = 1 << 20;
const data = Array.from({ length: 4 }, () => randomBytes(10 * MiB));
let env: E2eEnv & { refs: string[] };
let d: Daemon;
let proxy: Awaited<ReturnType<typeof startGateProxy>>;
let ref: string;
beforeAll(async () => {
  env = await startE2eEnv([
    { name: 'busybox:latest' },
    { name: 'other:1', opts: { extraLayers: [[{ path: 'other.bin', type: 'file', data: randomBytes(8 * MiB) }]] } },
    {
      name: 'large:1',
      opts: { extraLayers: data.map((bytes, i) => [{ path: `data${i}.bin`, type: 'file' as const, data: bytes }]) },
    },
  ]);
  const registry = new URL(env.registry.url);
  proxy = await startGateProxy({ host: registry.hostname, port: Number(registry.port) }, 4 * MiB);
  ref = `127.0.0.1:${proxy.port}/large:1`;
  d = await startDaemon({ dir: env.dir });
});
afterAll(async () => {
  proxy?.release();
  await d?.shutdown();
  await proxy?.close();
  await env?.cleanup();
});

test('ps answers and lists the containers all through a large pull, and the pulled image runs', async () => {
  await hyprOk(d, ['create', '--name', 'bystander', env.image, 'true']);
  let pull: ChildProcess | undefined;
  try {
    pull = spawn(process.execPath, [HYPR, 'pull', '-q', ref], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, HYPR_HOST: d.host },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    pull.stderr?.on('data', (b) => {
      stderr += b;
    });
    let ended = false;
    const pulled = new Promise<number | null>((r) =>
      pull?.once('exit', (code) => {
        ended = true;
        r(code);
      }),
    );
    // Held mid-download: every ps answers while the pull cannot have ended.
    await waitFor(async () => proxy.isHolding(), 120_000, 'the pull to be downloading');
    for (let i = 0; i < 3; i++) {
      const ps = await hypr(d, ['ps', '-a']);
      expect(ps.code, ps.stderr).toBe(0);
      expect(ps.stdout).toContain('bystander');
    }
    expect(ended).toBe(false);
    // Released: ps keeps answering through the rest of the download, the unpack and the disk.
    proxy.release();
    do {
      const ps = await hypr(d, ['ps', '-a']);
      expect(ps.code, ps.stderr).toBe(0);
      expect(ps.stdout).toContain('bystander');
    } while (!ended);
    expect(await pulled, stderr).toBe(0);
  } finally {
    proxy.release();
    pull?.kill();
  }
  // The image is whole: every layer's file reads back as it was pushed.
  const sums = await hyprOk(d, ['run', '--rm', ref, 'sha256sum', '/data0.bin', '/data3.bin']);
  for (const i of [0, 3])
    expect(sums).toContain(`${createHash('sha256').update(data[i]).digest('hex')}  /data${i}.bin`);
  expect(await hyprOk(d, ['images'])).toContain(`127.0.0.1:${proxy.port}/large`);
});

/** Processes whose parent is `ppid` and whose command line contains `text`. */
function childrenOf(ppid: number, text: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === ppid && readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(text)) pids.push(Number(name));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));

test('a pull process does not outlive hyprd killed with -9 mid-download', async () => {
  proxy.hold();
  const pull = spawn(process.execPath, [HYPR, 'pull', '-q', `127.0.0.1:${proxy.port}/other:1`], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HYPR_HOST: d.host },
    stdio: 'ignore',
  });
  try {
    await waitFor(async () => proxy.isHolding(), 120_000, 'the pull to be downloading');
    const [pid] = childrenOf(d.pid, 'pull-process.js');
    expect(pid).toBeGreaterThan(0);
    await d.crash();
    await waitFor(async () => !alive(pid), 60_000, `pull process ${pid} to end with hyprd`);
  } finally {
    proxy.release();
    pull.kill();
  }
});
