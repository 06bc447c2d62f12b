/**
 * `hypr build` through the real CLI and hyprd. hyprd runs in a network namespace this test makes,
 * so build VMs get a NIC on its default bridge network (NAT egress, DNS) as a container would; the
 * only server a RUN reaches is busybox httpd, which the test runs inside that namespace. The base
 * image comes in with `hypr load`. About eight VM boots in all.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { buildBusyboxImage, writeTestOciLayout } from '../../packages/core/test/helpers/busybox-image.js';
import { assertVmPrerequisites } from '../../packages/core/test/helpers/vm.js';
import { type CliResult, HYPR, HYPRD, hyprOk } from './helpers.js';

// VMs boot under TCG on a shared machine: allow for a slow, loaded host.
vi.setConfig({ testTimeout: 400_000, hookTimeout: 300_000 });

const NS = `hypr-e2e-b${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const IMAGE = 'hypr-e2e/buildbox:latest';
let dir: string;
let proc: ChildProcess | undefined;
let httpd: ChildProcess | undefined;
let d: { host: string };

/** `hypr ARGS` with extra environment variables and stdin. */
function hypr(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HYPR, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, HYPR_HOST: d.host, ...opts.env },
      cwd: opts.cwd ?? dir,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => {
      stdout += b;
    });
    child.stderr.on('data', (b) => {
      stderr += b;
    });
    child.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hypr ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, 300_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128, stdout, stderr });
    });
  });
}

async function ok(args: string[], opts: Parameters<typeof hypr>[1] = {}): Promise<CliResult> {
  const r = await hypr(args, opts);
  if (r.code !== 0)
    throw new Error(`hypr ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

async function startDaemonInNs(): Promise<void> {
  const logPath = join(dir, 'hyprd.log');
  const socket = join(dir, 'hyprd.sock');
  const fd = openSync(logPath, 'a');
  proc = spawn('ip', ['netns', 'exec', NS, process.execPath, HYPRD, '-H', `unix://${socket}`], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HYPR_HOME: join(dir, 'home'), HYPR_LOG_LEVEL: 'debug' },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const p = proc;
  const deadline = Date.now() + 30_000;
  while (!(existsSync(socket) && readFileSync(logPath, 'utf8').includes('hyprd listening'))) {
    if (p.exitCode !== null || Date.now() > deadline)
      throw new Error(`hyprd did not start:\n${readFileSync(logPath, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  d = { host: `unix://${socket}` };
}

beforeAll(async () => {
  assertVmPrerequisites();
  dir = await mkdtemp(join(tmpdir(), 'hypr-e2e-build-'));
  execFileSync('ip', ['netns', 'add', NS]);
  execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
  const image = await buildBusyboxImage({ config: { Cmd: ['sh'], Env: ['PATH=/usr/local/bin:/bin'] } });
  const layout = join(dir, 'layout');
  await writeTestOciLayout(layout, image);
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  index.manifests[0].annotations['io.containerd.image.name'] = IMAGE;
  await writeFile(join(layout, 'index.json'), JSON.stringify(index));
  execFileSync('tar', ['-cf', join(dir, 'image.tar'), '-C', layout, '.']);
  await startDaemonInNs();
  await hyprOk(d, ['load', '-i', join(dir, 'image.tar')]);
  // The project: two stages, a file the .dockerignore keeps out, a script made by RUN.
  const ctx = join(dir, 'app');
  await mkdir(ctx);
  await writeFile(join(ctx, 'greet.sh'), '#!/bin/sh\necho "hello NAME built"\n');
  await writeFile(join(ctx, 'secret.txt'), 'not for the image\n');
  await writeFile(join(ctx, '.dockerignore'), 'secret.txt\n');
  await writeFile(
    join(ctx, 'Dockerfile'),
    [
      `FROM ${IMAGE} AS builder`,
      'WORKDIR /src',
      'COPY . .',
      'RUN sed "s/NAME/hypr/" greet.sh > out.sh && chmod 755 out.sh && test ! -e secret.txt',
      `FROM ${IMAGE}`,
      'COPY --from=builder /src/out.sh /usr/local/bin/greet',
      'CMD ["greet"]',
      '',
    ].join('\n'),
  );
}, 300_000);

afterAll(async () => {
  try {
    httpd?.kill();
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc?.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
  } finally {
    try {
      execFileSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  }
});

const imageIds = async () =>
  (await ok(['images', '-q', '--no-trunc'])).stdout.trim().split('\n').filter(Boolean).sort();

describe('hypr build', () => {
  let firstId = '';

  test('a multi-stage project builds, is tagged, and runs', async () => {
    const r = await ok(['build', '-t', 'e2e/app:1', '--iidfile', 'iid', '--progress', 'plain', 'app']);
    firstId = (await readFile(join(dir, 'iid'), 'utf8')).trim();
    expect(firstId).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/#\d+ transferring context: .* done/);
    expect(r.stderr).toMatch(/#\d+ \[builder 4\/4\] RUN sed/);
    expect(r.stderr).toContain(`writing image ${firstId} done`);
    expect(r.stderr).toContain('naming to docker.io/e2e/app:1 done');
    expect((await ok(['run', '--rm', 'e2e/app:1'])).stdout).toBe('hello hypr built\n');
  });

  test('a rebuild with no change runs no step, so boots no VM, and keeps the id; -q prints only the id', async () => {
    const r = await ok(['build', '-q', '-t', 'e2e/app:1', 'app']);
    expect(r.stdout).toBe(`${firstId}\n`);
    expect(r.stderr).toBe('');
    const plain = await ok(['build', '--progress', 'plain', 'app']);
    expect(plain.stderr).toMatch(/\[builder 4\/4\] RUN sed.*\n#\d+ CACHED/);
    expect(plain.stderr).not.toMatch(/#\d+ \d+\.\d{3} /); // no step printed output: nothing ran
  });

  test('a changed file rebuilds from the first step that reads it', async () => {
    await writeFile(join(dir, 'app/greet.sh'), '#!/bin/sh\necho "hello NAME rebuilt"\n');
    const r = await ok(['build', '-t', 'e2e/app:2', '--progress', 'plain', 'app']);
    expect(r.stderr).toMatch(/\[builder 2\/4\] WORKDIR \/src\n#\d+ CACHED/);
    expect(r.stderr).not.toMatch(/\[builder 3\/4\] COPY \. \.\n#\d+ CACHED/);
    const id = r.stderr.match(/writing image (sha256:[a-f0-9]{64})/)?.[1];
    expect(id).toBeDefined();
    expect(id).not.toBe(firstId);
  });

  test('a failing RUN prints the Dockerfile around its line and the exit code, exits 1, and adds no image', async () => {
    const before = await imageIds();
    const r = await hypr(['build', '-t', 'e2e/broken:1', '--progress', 'plain', '-f', '-', 'app'], {
      input: `FROM ${IMAGE}\nRUN echo about-to-fail\nRUN echo failing-now && exit 3\nCMD ["true"]\n`,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('failing-now');
    expect(r.stderr).toMatch(/\nDockerfile:3\n-+\n {3}1 \| {5}FROM .*\n {3}2 \| {5}RUN echo about-to-fail\n/);
    expect(r.stderr).toContain('   3 | >>> RUN echo failing-now && exit 3\n');
    expect(r.stderr).toContain('did not complete successfully: exit code: 3');
    expect(await imageIds()).toEqual(before);
  });

  test('-f - with --build-arg from the environment, exported with -o type=local', async () => {
    const r = await ok(['build', '-q', '--build-arg', 'GREETING', '-f', '-', '-o', 'type=local,dest=out', 'app'], {
      env: { GREETING: 'hi-from-env' },
      input: `FROM ${IMAGE}\nARG GREETING\nRUN echo "$GREETING" > /greeting.txt\n`,
    });
    expect(r.stdout).toMatch(/^sha256:[a-f0-9]{64}\n$/);
    expect(await readFile(join(dir, 'out/greeting.txt'), 'utf8')).toBe('hi-from-env\n');
    expect(existsSync(join(dir, 'out/bin/busybox'))).toBe(true);
  });

  test('RUN reaches a server through the default network; RUN --network=none cannot', async () => {
    await mkdir(join(dir, 'www'));
    await writeFile(join(dir, 'www/f.txt'), 'net-ok\n');
    httpd = spawn('ip', ['netns', 'exec', NS, 'busybox', 'httpd', '-f', '-p', '0.0.0.0:8099', '-h', join(dir, 'www')], {
      stdio: 'ignore',
    });
    const r = await ok(['build', '-o', 'type=local,dest=netout', '--progress', 'plain', '-f', '-', 'app'], {
      input: [
        `FROM ${IMAGE}`,
        `RUN gw=$(ip route | awk '/default/ {print $3}') && echo "$gw" > /gw && wget -q -O /fetched.txt "http://$gw:8099/f.txt"`,
        `RUN --network=none sh -c 'if wget -q -O- "http://$(cat /gw):8099/f.txt"; then exit 9; fi; echo offline > /offline.txt'`,
        '',
      ].join('\n'),
    });
    expect(r.stderr).not.toContain('ERROR');
    expect(await readFile(join(dir, 'netout/fetched.txt'), 'utf8')).toBe('net-ok\n');
    expect(await readFile(join(dir, 'netout/offline.txt'), 'utf8')).toBe('offline\n');
  });

  test('--builder native (RUN in namespaces on the host) gives the same image id as the VM runner', async () => {
    const dockerfile = `FROM ${IMAGE}\nRUN echo native-or-vm > /runner.txt && mkdir -p /d && echo x > /d/f && rm /bin/true\n`;
    const vm = await ok(['build', '-q', '--no-cache', '-f', '-', 'app'], { input: dockerfile });
    const native = await ok(['build', '-q', '--no-cache', '--builder', 'native', '-f', '-', 'app'], {
      input: dockerfile,
    });
    expect(native.stdout).toMatch(/^sha256:[a-f0-9]{64}\n$/);
    expect(native.stdout).toBe(vm.stdout);
  });

  test('builder du lists the cache; builder prune -a -f empties it and images still run', async () => {
    const du = await ok(['builder', 'du']);
    expect(du.stdout).toMatch(/^ID\s+RECLAIMABLE\s+SIZE\s+LAST ACCESSED$/m);
    expect(du.stdout).toMatch(/^Total:\s+\S+/m);
    const prune = await ok(['builder', 'prune', '-a', '-f']);
    expect(prune.stdout).toMatch(/Total reclaimed space: /);
    expect((await ok(['builder', 'du'])).stdout).not.toMatch(/^ID/m);
    expect((await ok(['image', 'prune', '-f'])).code).toBe(0);
    expect((await ok(['run', '--rm', 'e2e/app:2'])).stdout).toBe('hello hypr rebuilt\n');
  });
});
