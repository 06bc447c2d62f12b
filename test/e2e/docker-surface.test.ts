import { spawn } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { type CliResult, type Daemon, type E2eEnv, HYPR, hypr, hyprOk, startDaemon, startE2eEnv } from './helpers.js';

// docker's command line as users type it: management forms, --format templates, the admin commands
// (rename, update, pause, system df, info) and errors that name what is wrong, with docker's exit codes.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

let env: E2eEnv;
let d: Daemon;
beforeAll(async () => {
  env = await startE2eEnv();
  d = await startDaemon({ dir: env.dir });
});
afterAll(async () => {
  await d?.shutdown();
  await env?.cleanup();
});

/** Runs the bin as an executable (its shebang), as a shell does: `node` is not in front of it. */
function hyprExecutable(args: string[], extraEnv: NodeJS.ProcessEnv = {}, command = HYPR): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      env: { PATH: `${join(process.execPath, '..')}:${process.env.PATH}`, HYPR_HOST: d.host, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => {
      stdout += b;
    });
    child.stderr.on('data', (b) => {
      stderr += b;
    });
    child.once('exit', (code) => resolve({ code: code ?? 128, stdout, stderr }));
  });
}

describe('errors name the bad value, with docker exit codes', () => {
  test('run --env-file /missing is read by hypr, not by Node (125)', async () => {
    const r = await hyprExecutable(['run', '--env-file', '/missing', env.image, 'true']);
    expect(r.stderr).toContain('open /missing: no such file or directory');
    expect(r.code).toBe(125);
  });

  test('unknown command 1 with a did-you-mean; unknown flag 125', async () => {
    const cmd = await hypr(d, ['imagse']);
    expect(cmd).toMatchObject({ code: 1 });
    expect(cmd.stderr).toContain("'imagse' is not a hypr command");
    expect(cmd.stderr).toContain('did you mean `hypr images`?');
    const flag = await hypr(d, ['ps', '--bogus']);
    expect(flag.code).toBe(125);
    expect(flag.stderr).toContain('--bogus');
  });

  test('load -i and save -o name the path (not the daemon, not Node)', async () => {
    const load = await hypr(d, ['load', '-i', '/missing.tar']);
    expect(load).toMatchObject({ code: 1 });
    expect(load.stderr).toContain('open /missing.tar: no such file or directory');
    expect(load.stderr).not.toMatch(/Is hyprd running|ENOENT/);
    const save = await hypr(d, ['save', '-o', '/no/dir/x.tar', env.image]);
    expect(save).toMatchObject({ code: 1 });
    expect(save.stderr).toContain('invalid output path: directory "/no/dir" does not exist');
  });

  test('--cpus beyond the host or Infinity, -m beyond int64: errors naming the flag (125)', async () => {
    for (const [flag, value] of [
      ['--cpus', 'Infinity'],
      ['--cpus', '100000'],
      ['-m', '9223372036854775808'],
    ]) {
      const r = await hypr(d, ['run', flag, value, env.image, 'true']);
      expect(r.code, r.stderr).toBe(125);
      expect(r.stderr).toContain(`invalid argument "${value}" for "${flag === '-m' ? '-m, --memory' : flag}" flag`);
    }
  });

  test('exec into a missing container exits 1 with the daemon message', async () => {
    const r = await hypr(d, ['exec', 'no-such-container', 'true']);
    expect(r).toMatchObject({ code: 1 });
    expect(r.stderr).toContain('Error response from daemon: No such container: no-such-container');
  });

  test('a registry that refuses is the daemon\'s error, not "Is hyprd running?" (125)', async () => {
    const r = await hypr(d, ['run', '--rm', '127.0.0.1:1/nothing/here:1', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('Error response from daemon');
    expect(r.stderr).not.toMatch(/Cannot connect to the HYPR daemon|Is hyprd running/);
  });

  test("a missing program's error is printed once, exit 127", async () => {
    const r = await hypr(d, ['run', '--rm', env.image, '/no/such/binary']);
    expect(r.code).toBe(127);
    const lines = r.stderr.split('\n').filter((l) => l.includes('/no/such/binary'));
    expect(lines, r.stderr).toHaveLength(1);
  });

  test('a user who may not open the socket is told so, not that hyprd is down', async () => {
    // the socket is 0660 root:root (or group hypr) inside a private directory: uid 65534 may not connect
    chmodSync(d.socket, 0o660);
    const denied = await new Promise<CliResult>((resolve) => {
      const child = spawn(
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, HYPR, 'ps'],
        {
          env: { PATH: process.env.PATH, HOME: '/tmp', HYPR_HOST: d.host },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (b) => {
        stderr += b;
      });
      child.once('exit', (code) => resolve({ code: code ?? 128, stdout: '', stderr }));
    });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('permission denied while trying to connect to the HYPR daemon socket');
    expect(denied.stderr).not.toContain('Is hyprd running?');
  });
});

describe('containers through the management forms and --format', () => {
  let id: string;
  beforeAll(async () => {
    await hyprOk(d, ['image', 'pull', '-q', env.image]);
    id = (await hyprOk(d, ['container', 'run', '-d', '--name', 'surface', env.image, 'sleep', '1000'])).trim();
  });

  test('container ls|list|ps and image ls list what ps and images list', async () => {
    const ps = await hyprOk(d, ['ps', '--format', '{{.Names}}']);
    expect(ps).toBe('surface\n');
    for (const form of ['ls', 'list', 'ps'])
      expect(await hyprOk(d, ['container', form, '--format', '{{.Names}}'])).toBe(ps);
    expect(await hyprOk(d, ['image', 'ls', '--format', '{{.Repository}}'])).toBe(
      await hyprOk(d, ['images', '--format', '{{.Repository}}']),
    );
  });

  test("docker's documented inspect templates", async () => {
    const f = (tpl: string) => hyprOk(d, ['container', 'inspect', '-f', tpl, 'surface']);
    expect(await f('{{if .State.Running}}up{{else}}down{{end}}')).toBe('up\n');
    expect(await f('{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}')).toMatch(/^[\d.]*\n$/);
    expect(JSON.parse(await f('{{json .Config}}'))).toMatchObject({ Image: env.image });
    expect(await f('{{join .Config.Cmd " "}}')).toBe('sleep 1000\n');
    expect(await f('{{.Name}} {{len .Id}}')).toBe('/surface 64\n');
    expect(await f('{{.Nope}}')).toBe('<no value>\n');
    const bad = await hypr(d, ['inspect', '-f', '{{range .State}}', 'surface']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('template: :1:3: unexpected EOF');
  });

  test('ps --format table and {{.Networks}}', async () => {
    const out = await hyprOk(d, ['ps', '--format', 'table {{.ID}}\\t{{.Names}}\\t{{.Networks}}']);
    const [header, row] = out.trim().split('\n');
    expect(header).toMatch(/^CONTAINER ID\s+NAMES\s+NETWORKS$/);
    expect(row).toMatch(new RegExp(`^${id.slice(0, 12)}\\s+surface\\s+\\S+$`));
    expect(row).not.toMatch(/bridge$/);
  });

  test('image inspect, container inspect: each looks for its own type', async () => {
    expect(await hyprOk(d, ['image', 'inspect', '-f', '{{index .RepoTags 0}}', env.image])).toBe(`${env.image}\n`);
    const r = await hypr(d, ['container', 'inspect', env.image]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`No such container: ${env.image}`);
  });

  test('info and system info are the same', async () => {
    const info = JSON.parse(await hyprOk(d, ['info', '--json']));
    expect(info).toMatchObject({ ContainersRunning: 1, Hypervisor: 'qemu' });
    expect(info.Name).toBeTruthy();
    expect(await hyprOk(d, ['info', '--format', '{{.NCPU}} {{.DefaultCPUs}}'])).toMatch(/^\d+ \d+\n$/);
  });

  test('rename, then update --restart; -m on a running container is refused', async () => {
    await hyprOk(d, ['rename', 'surface', 'surface2']);
    expect(await hyprOk(d, ['ps', '--format', '{{.Names}}'])).toBe('surface2\n');
    await hyprOk(d, ['container', 'rename', 'surface2', 'surface']);
    expect(await hyprOk(d, ['update', '--restart', 'on-failure:3', 'surface'])).toBe('surface\n');
    expect(await hyprOk(d, ['inspect', '-f', '{{.HostConfig.RestartPolicy.Name}}', 'surface'])).toBe('on-failure\n');
    const running = await hypr(d, ['update', '-m', '512m', 'surface']);
    expect(running.code).toBe(1);
    expect(running.stderr).toContain('Error response from daemon');
  });

  test('pause freezes the VM, ps says Paused, unpause resumes it', async () => {
    const pause = await hypr(d, ['pause', 'surface']);
    expect(pause, pause.stderr).toMatchObject({ code: 0 });
    expect(pause.stdout).toBe('surface\n');
    expect(await hyprOk(d, ['ps', '--format', '{{.State}} {{.Status}}'])).toMatch(/^paused Up .*\(Paused\)\n$/);
    expect(await hyprOk(d, ['container', 'unpause', 'surface'])).toBe('surface\n');
    expect(await hyprOk(d, ['ps', '--format', '{{.State}}'])).toBe('running\n');
    expect(await hyprOk(d, ['exec', 'surface', 'echo', 'back'])).toBe('back\n');
  });

  test('system df: the summary rows and -v sections', async () => {
    const out = await hyprOk(d, ['system', 'df']);
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
    expect(lines[1]).toMatch(/^Images\s+1\s+1\s+\S+\s+\S+ \(\d+%\)$/);
    expect(lines[2]).toMatch(/^Containers\s+1\s+1\s+/);
    expect(lines[3]).toMatch(/^Local Volumes\s+0\s+0\s+0B\s+0B$/);
    expect(lines[4]).toMatch(/^Build Cache\s+\d+\s+\d+\s+/);
    const verbose = await hyprOk(d, ['system', 'df', '-v']);
    expect(verbose).toContain('Images space usage:');
    expect(verbose).toMatch(/CONTAINER ID\s+IMAGE\s+COMMAND\s+LOCAL VOLUMES\s+SIZE\s+CREATED\s+STATUS\s+NAMES/);
    expect(verbose).toContain('surface');
    expect(await hyprOk(d, ['system', 'df', '--format', '{{.Type}}:{{.TotalCount}}'])).toMatch(/^Images:1\n/);
  });

  test('container prune removes stopped containers only; image prune -a the unused images', async () => {
    await hyprOk(d, ['container', 'run', '--name', 'done', env.image, 'true']);
    const pruned = await hyprOk(d, ['container', 'prune', '-f']);
    expect(pruned).toMatch(/^Deleted Containers:\n[a-f0-9]{64}\n/);
    expect(await hyprOk(d, ['container', 'ls', '-a', '--format', '{{.Names}}'])).toBe('surface\n');
    await hyprOk(d, ['container', 'rm', '-f', 'surface']);
    const images = await hyprOk(d, ['image', 'prune', '-a', '-f']);
    expect(images).toMatch(/Deleted Images:\ndeleted: sha256:/);
    expect(await hyprOk(d, ['image', 'ls', '-q'])).toBe('');
  });
});
