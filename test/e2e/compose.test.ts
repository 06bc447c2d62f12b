/**
 * hypr compose through the real CLI, a real hyprd and real microVMs (TCG here), about 7 VM boots.
 * hyprd runs inside a network namespace this test creates, so the project's bridge, TAPs, nft rules
 * and DNS server live (and die) there; the image comes in with `hypr load`, as the registry on the
 * root namespace's loopback is out of hyprd's reach.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertToStack, loadCompose } from '@hypr/core/compose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { stackSpecToProto } from '../../packages/cli/src/compose-spec.js';
import { buildBusyboxImage, writeTestOciLayout } from '../../packages/core/test/helpers/busybox-image.js';
import { assertVmPrerequisites } from '../../packages/core/test/helpers/vm.js';
import { serviceConfigHash, stackSpecFromProto } from '../../packages/daemon/src/stacks/index.js';
import { HYPRD, hypr, hyprOk } from './helpers.js';

const NS = `hypr-e2e-c${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const image = 'hypr-e2e/composebox:latest';
let dir: string;
let proc: ChildProcess | undefined;
let d: { host: string };
let projectDir: string;

async function startDaemonInNs(): Promise<void> {
  const logPath = join(dir, 'hyprd.log');
  const socket = join(dir, 'hyprd.sock');
  const fd = openSync(logPath, 'a');
  proc = spawn('ip', ['netns', 'exec', NS, process.execPath, HYPRD, '-H', `unix://${socket}`], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HYPR_HOME: join(dir, 'home'), HYPR_LOG_LEVEL: 'debug' },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const deadline = Date.now() + 30_000;
  while (!(existsSync(socket) && readFileSync(logPath, 'utf8').includes('hyprd listening'))) {
    if (proc.exitCode !== null || Date.now() > deadline)
      throw new Error(`hyprd did not start:\n${readFileSync(logPath, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  d = { host: `unix://${socket}` };
}

const stackFile = (workerGreeting: string) => `
name: shop
services:
  init:
    image: ${image}
    command: ["sh", "-c", "echo init-done"]
  web:
    image: ${image}
    command: sh -c "echo web-start; exec sleep 3600"
    ports: ["8000:8000"]
    volumes:
      - data:/data
    stop_grace_period: 1s
    depends_on:
      init:
        condition: service_completed_successfully
  worker:
    image: ${image}
    command: sh -c 'echo "worker says $$GREETING"; ping -c 1 -W 5 web >/dev/null && echo "web answers by name"; exec sleep 3600'
    environment:
      GREETING: ${workerGreeting}
    stop_grace_period: 1s
    depends_on:
      - web
volumes:
  data: {}
`;

// A test may take as long as its commands are allowed to (a limit, not a timing assertion): each VM test
// runs several `up`s, and under TCG on a shared 2-core machine one up takes minutes, a CLI start seconds.
const SLOW = { timeout: 600_000 };

const compose = (args: string[], timeoutMs = 120_000) =>
  hypr(d, ['compose', '-f', join(projectDir, 'compose.yaml'), ...args], { timeoutMs });
const composeOk = async (args: string[], timeoutMs = 120_000) => {
  const r = await compose(args, timeoutMs);
  if (r.code !== 0)
    throw new Error(`hypr compose ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
};
const psJson = async (
  all = true,
): Promise<{ Name: string; ID: string; Service: string; State: string; Labels: Record<string, string> }[]> =>
  JSON.parse((await composeOk(['ps', ...(all ? ['-a'] : []), '--json'])).stdout);

beforeAll(async () => {
  assertVmPrerequisites();
  dir = await mkdtemp(join(tmpdir(), 'hypr-e2e-compose-'));
  execFileSync('ip', ['netns', 'add', NS]);
  execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
  const built = await buildBusyboxImage({ config: { Cmd: ['sh'], Env: ['PATH=/bin'] } });
  const layout = join(dir, 'layout');
  await writeTestOciLayout(layout, built);
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
  index.manifests[0].annotations['io.containerd.image.name'] = image;
  await writeFile(join(layout, 'index.json'), JSON.stringify(index));
  execFileSync('tar', ['-cf', join(dir, 'image.tar'), '-C', layout, '.']);
  await startDaemonInNs();
  await hyprOk(d, ['load', '-i', join(dir, 'image.tar')]);
  projectDir = join(dir, 'shop');
  await mkdir(projectDir, { recursive: true });
  await writeFile(join(projectDir, 'compose.yaml'), stackFile('hello'));
});
afterAll(async () => {
  try {
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc?.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
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

describe('compose config', SLOW, () => {
  test('prints the resolved project, its services and volumes', async () => {
    const r = await composeOk(['config']);
    expect(r.stdout).toContain('name: shop');
    expect(r.stdout).toMatch(/worker:\n(.*\n)*?\s+environment:\n\s+GREETING: hello/);
    expect((await composeOk(['config', '--services'])).stdout.split('\n').filter(Boolean).sort()).toEqual([
      'init',
      'web',
      'worker',
    ]);
    expect((await composeOk(['config', '-q'])).stdout).toBe('');
  });

  test('an invalid file fails with its file, line and key path', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, `services:\n  web:\n    image: ${image}\n    ports: ["80:80:80"]\n`);
    const r = await hypr(d, ['compose', '-f', bad, 'config']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('bad.yaml:4 services.web.ports[0]: "80:80:80" is not a port mapping');
    const up = await hypr(d, ['compose', '-f', bad, 'up', '-d']);
    expect(up.code).not.toBe(0);
    expect(up.stderr).toContain('services.web.ports[0]');
  });
});

describe('the stack on the wire', () => {
  test('what the CLI sends is what hyprd runs: same spec, same config hashes', () => {
    const spec = convertToStack(loadCompose({ workingDir: projectDir, env: {} }));
    const back = stackSpecFromProto(stackSpecToProto(spec));
    expect(back).toEqual(spec);
    for (const [name, svc] of Object.entries(spec.services))
      expect(serviceConfigHash(back.services[name], 'sha256:x')).toBe(serviceConfigHash(svc, 'sha256:x'));
  });
});

describe('a stack of microVMs', SLOW, () => {
  test('up -d starts the services in dependency order, named and labelled as compose does', async () => {
    const r = await composeOk(['up', '-d'], 180_000);
    expect(r.stderr).toMatch(/Network shop_default {2}Created/);
    expect(r.stderr).toMatch(/Volume shop_data {2}Created/);
    const lines = r.stderr.split('\n');
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    // web waits for init to complete successfully; worker for web to start.
    expect(at(/Container shop-init-1 {2}Exited/)).toBeGreaterThan(-1);
    expect(at(/Container shop-web-1 {2}Starting/)).toBeGreaterThan(at(/Container shop-init-1 {2}Exited/));
    expect(at(/Container shop-worker-1 {2}Starting/)).toBeGreaterThan(at(/Container shop-web-1 {2}Started/));

    const all = await psJson();
    expect(all.map((c) => c.Name).sort()).toEqual(['shop-init-1', 'shop-web-1', 'shop-worker-1']);
    const web = all.find((c) => c.Name === 'shop-web-1')!;
    expect(web.Labels).toMatchObject({
      'com.docker.compose.project': 'shop',
      'com.docker.compose.service': 'web',
      'com.docker.compose.container-number': '1',
    });
    expect(web.Labels['com.docker.compose.config-hash']).toMatch(/^[0-9a-f]{64}$/);

    const running = (await composeOk(['ps'])).stdout;
    expect(running).toMatch(/^NAME\s+IMAGE\s+COMMAND\s+SERVICE\s+CREATED\s+STATUS\s+PORTS/);
    expect(running).toMatch(/shop-web-1 .* web .* Up .*0\.0\.0\.0:8000->8000\/tcp/);
    expect((await composeOk(['port', 'web', '8000'])).stdout).toBe('0.0.0.0:8000\n');
    const images = (await composeOk(['images'])).stdout;
    expect(images).toMatch(/^CONTAINER\s+REPOSITORY\s+TAG\s+IMAGE ID\s+SIZE$/m);
    expect(images).toMatch(/^shop-web-1\s+hypr-e2e\/composebox\s+latest\s+[0-9a-f]{12}\s+\d/m);
    expect(images).toMatch(/^shop-init-1\s/m);
    expect((await compose(['port', 'web', '9999'])).stderr).toContain('no port 9999/tcp for container shop-web-1');
    expect(running).toMatch(/shop-worker-1 .* worker .* Up /);
    expect(running).not.toContain('shop-init-1');
    expect((await composeOk(['ps', '-a'])).stdout).toMatch(/shop-init-1 .* init .* Exited \(0\)/);
    expect((await composeOk(['ps', '-q'])).stdout.trim().split('\n')).toHaveLength(2);
    expect((await hyprOk(d, ['compose', 'ls'])).split('\n')[1]).toMatch(/^shop\s+.*running\(2\)/);
  });

  test('logs shows every service, each line prefixed with service-N', async () => {
    const wait = Date.now() + 30_000;
    let out = '';
    while (Date.now() < wait) {
      out = (await composeOk(['logs'])).stdout;
      if (out.includes('web answers by name') && out.includes('web-start')) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(out).toMatch(/^init-1 {4}\| init-done$/m);
    expect(out).toMatch(/^web-1 {5}\| web-start$/m);
    expect(out).toMatch(/^worker-1 {2}\| worker says hello$/m);
    // The services share <project>_default, whose DNS server answers service names.
    expect(out).toMatch(/^worker-1 {2}\| web answers by name$/m);
    expect((await composeOk(['logs', '--no-log-prefix', 'web'])).stdout).toBe('web-start\n');
  });

  test('up -d again with no change recreates nothing; a changed service alone is recreated', async () => {
    const before = await psJson();
    const again = await composeOk(['up', '-d'], 180_000);
    expect(again.stderr).not.toMatch(/Recreate|Creating/);
    expect(again.stderr).toMatch(/Container shop-web-1 {2}Running/);
    const after = await psJson();
    expect(after.map((c) => c.ID).sort()).toEqual(before.map((c) => c.ID).sort());

    await writeFile(join(projectDir, 'compose.yaml'), stackFile('bonjour'));
    const changed = await composeOk(['up', '-d'], 180_000);
    expect(changed.stderr).toMatch(/Container shop-worker-1 {2}Recreate/);
    expect(changed.stderr).not.toMatch(/Container shop-web-1 {2}Recreate/);
    const third = await psJson();
    const id = (list: typeof third, name: string) => list.find((c) => c.Name === name)?.ID;
    expect(id(third, 'shop-web-1')).toBe(id(before, 'shop-web-1'));
    expect(id(third, 'shop-worker-1')).not.toBe(id(before, 'shop-worker-1'));
  });

  test('down removes every container of the project and forgets it', async () => {
    const r = await composeOk(['down', '-t', '1'], 120_000);
    expect(r.stderr).toMatch(/Container shop-web-1 {2}Removed/);
    expect(r.stderr).toMatch(/Network shop_default {2}Removed/);
    expect(await hyprOk(d, ['network', 'ls'])).not.toContain('shop_default');
    // Named volumes stay unless -v.
    expect(await hyprOk(d, ['volume', 'ls', '-q'])).toContain('shop_data');
    expect((await composeOk(['down', '-v'])).stderr).toMatch(/Volume shop_data {2}Removed/);
    expect(await hyprOk(d, ['volume', 'ls', '-q'])).not.toContain('shop_data');
    expect(await hyprOk(d, ['ps', '-a', '-q'])).toBe('');
    expect(await hyprOk(d, ['compose', 'ls', '-a', '-q'])).toBe('');
    expect((await composeOk(['ps', '-a'])).stdout.trim().split('\n')).toHaveLength(1);
  });
});

describe('attached up', SLOW, () => {
  test('interleaves prefixed output and returns the exit code of --exit-code-from', async () => {
    const jobDir = join(dir, 'job');
    await mkdir(jobDir, { recursive: true });
    await writeFile(
      join(jobDir, 'compose.yaml'),
      `services:\n  job:\n    image: ${image}\n    command: ["sh", "-c", "echo working; exit 3"]\n`,
    );
    const file = join(jobDir, 'compose.yaml');
    const r = await hypr(d, ['compose', '-f', file, 'up', '--exit-code-from', 'job'], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toContain('job-1  | working\n');
    expect(r.stderr).toContain('job-job-1 exited with code 3');
    await hyprOk(d, ['compose', '-f', file, 'down'], { timeoutMs: 60_000 });
  });
});

describe('build: services, run, --scale, down --rmi', SLOW, () => {
  const appDir = () => join(dir, 'built');
  const file = () => join(appDir(), 'compose.yaml');
  const project = (args: string[]) => hypr(d, ['compose', '-f', file(), ...args], { timeoutMs: 180_000 });

  test('up builds the image only when it is missing, or with --build', async () => {
    await mkdir(appDir(), { recursive: true });
    await writeFile(
      join(appDir(), 'Dockerfile'),
      `FROM ${image}\nENV BUILT=yes\nCMD ["sh", "-c", "echo built-$BUILT"]\n`,
    );
    await writeFile(file(), 'services:\n  app:\n    build: .\n');
    const first = await project(['up', '-d']);
    expect(first.stderr).toMatch(/Service app {2}Built/);
    const again = await project(['up', '-d']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/Building|Built/);
    const forced = await project(['up', '-d', '--build']);
    expect(forced.stderr).toMatch(/Service app {2}Built/);
  });

  test('up --scale adds and removes replicas, keeping the others', async () => {
    const scaled = await project(['up', '-d', '--scale', 'app=2']);
    expect(scaled.stderr).toMatch(/Container built-app-2 {2}Started/);
    expect(scaled.stderr).not.toMatch(/Container built-app-1 {2}(Recreate|Creating)/);
    const back = await project(['up', '-d', '--scale', 'app=1']);
    expect(back.stderr).toMatch(/Container built-app-2 {2}Removed/);
  });

  test('run gives a one-off container the service with the command, environment and exit code', async () => {
    const run = await project(['run', '--rm', '-e', 'X=1', 'app', 'sh', '-c', 'echo run-$BUILT-$X']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('run-yes-1\n');
    const failed = await project(['run', '--no-deps', 'app', 'sh', '-c', 'exit 4']);
    expect(failed.code, failed.stderr).toBe(4);
    // The --rm one is gone, the other stays for ps -a, and neither is a replica of app.
    const names = (json: string) => (JSON.parse(json) as { Name: string }[]).map((c) => c.Name);
    expect(names((await project(['ps', '-a', '--json'])).stdout).filter((n) => n.includes('-run-'))).toEqual([
      expect.stringMatching(/^built-app-run-[0-9a-f]{12}$/),
    ]);
    const up = await project(['up', '-d']);
    expect(up.stderr).not.toMatch(/built-app-run-.*(Removed|Recreate)/);
  });

  test('down --rmi local removes the containers, one-off ones too, and the image built', async () => {
    const down = await project(['down', '-t', '1', '--rmi', 'local']);
    expect(down.stderr).toMatch(/Container built-app-run-[0-9a-f]{12} {2}Removed/);
    expect(down.stderr).toMatch(/Image built-app {2}Removed/);
    expect(await hyprOk(d, ['images'])).not.toMatch(/^built-app\s/m);
    expect(await hyprOk(d, ['images'])).toMatch(/^hypr-e2e\/composebox\s/m);
  });
});
