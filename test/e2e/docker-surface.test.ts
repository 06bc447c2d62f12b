import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
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

/** Runs hypr with stdin from a file and/or stdout into a file (binary tar streams). */
function hyprFiles(args: string[], files: { stdin?: string; stdout?: string }): Promise<CliResult> {
  return new Promise((resolve) => {
    const stdin = files.stdin ? openSync(files.stdin, 'r') : 'ignore';
    const stdout = files.stdout ? openSync(files.stdout, 'w') : 'pipe';
    const child = spawn(process.execPath, [HYPR, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, HYPR_HOST: d.host },
      stdio: [stdin, stdout, 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (b) => {
      stderr += b;
    });
    child.once('exit', (code) => {
      for (const fd of [stdin, stdout]) if (typeof fd === 'number') closeSync(fd);
      resolve({ code: code ?? 128, stdout: '', stderr });
    });
  });
}

describe("a running container's files and processes: cp, top, stats, commit, diff, export", () => {
  let work: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'hypr-cp-'));
    mkdirSync(join(work, 'src/sub'), { recursive: true });
    writeFileSync(join(work, 'src/a.txt'), 'alpha\n');
    writeFileSync(join(work, 'src/sub/b.txt'), 'beta\n');
    await hyprOk(d, ['image', 'pull', '-q', env.image]);
    await hyprOk(d, ['run', '-d', '--name', 'tools', env.image, 'sleep', '1000']);
  });
  afterAll(async () => {
    await hypr(d, ['rm', '-f', 'tools']);
    rmSync(work, { recursive: true, force: true });
  });
  const inside = (script: string) => hyprOk(d, ['exec', 'tools', 'sh', '-c', script]);

  test("cp into the container: a file, a directory, a directory's contents (/.)", async () => {
    writeFileSync(join(work, 'in.txt'), 'into-guest\n');
    await hyprOk(d, ['cp', join(work, 'in.txt'), 'tools:/tmp/in.txt']);
    await hyprOk(d, ['container', 'cp', join(work, 'src'), 'tools:/tmp/']);
    await hyprOk(d, ['cp', `${join(work, 'src')}/.`, 'tools:/tmp/contents']);
    expect(await inside('cat /tmp/in.txt /tmp/src/a.txt /tmp/src/sub/b.txt /tmp/contents/sub/b.txt')).toBe(
      'into-guest\nalpha\nbeta\nbeta\n',
    );
    expect(await inside('ls /tmp/contents')).toBe('a.txt\nsub\n');
  });

  test('cp out of the container: to a new path, into a directory, contents with /.', async () => {
    await inside('mkdir -p /data/sub && echo one > /data/one && echo two > /data/sub/two');
    await hyprOk(d, ['cp', 'tools:/data', join(work, 'new')]);
    expect(readFileSync(join(work, 'new/sub/two'), 'utf8')).toBe('two\n');
    mkdirSync(join(work, 'into'));
    await hyprOk(d, ['cp', 'tools:/data', join(work, 'into')]);
    expect(readFileSync(join(work, 'into/data/one'), 'utf8')).toBe('one\n');
    mkdirSync(join(work, 'flat'));
    await hyprOk(d, ['cp', 'tools:/data/.', join(work, 'flat')]);
    expect(readdirSync(join(work, 'flat')).sort()).toEqual(['one', 'sub']);
    await hyprOk(d, ['cp', 'tools:/data/one', join(work, 'flat/renamed')]);
    expect(readFileSync(join(work, 'flat/renamed'), 'utf8')).toBe('one\n');
  });

  test('cp with - streams a tar both ways; a missing path is named', async () => {
    const tar = join(work, 'out.tar');
    expect(await hyprFiles(['cp', 'tools:/data', '-'], { stdout: tar })).toMatchObject({ code: 0 });
    expect(execFileSync('tar', ['-tf', tar], { encoding: 'utf8' }).split('\n')).toEqual(
      expect.arrayContaining(['data/', 'data/one', 'data/sub/two']),
    );
    await inside('mkdir -p /fromtar');
    const up = await hyprFiles(['cp', '-', 'tools:/fromtar'], { stdin: tar });
    expect(up, up.stderr).toMatchObject({ code: 0 });
    expect(await inside('cat /fromtar/data/sub/two')).toBe('two\n');
    const missing = await hypr(d, ['cp', 'tools:/no/such/file', join(work, 'x')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Could not find the file /no/such/file in container tools');
  });

  test('cp out of a stopped container reads its image and writable layer', async () => {
    await hyprOk(d, ['run', '--name', 'stopped-cp', env.image, 'sh', '-c', 'echo kept > /kept.txt']);
    try {
      await hyprOk(d, ['cp', 'stopped-cp:/kept.txt', join(work, 'kept.txt')]);
      expect(readFileSync(join(work, 'kept.txt'), 'utf8')).toBe('kept\n');
      await hyprOk(d, ['cp', 'stopped-cp:/etc/passwd', join(work, 'passwd')]);
      expect(readFileSync(join(work, 'passwd'), 'utf8')).toMatch(/^root:/);
      const into = await hypr(d, ['cp', join(work, 'kept.txt'), 'stopped-cp:/tmp/']);
      expect(into.code).toBe(1);
      expect(into.stderr).toContain('is not running');
    } finally {
      await hypr(d, ['rm', 'stopped-cp']);
    }
  });

  test("top shows docker's columns and the container's processes", async () => {
    const lines = (await hyprOk(d, ['top', 'tools'])).trim().split('\n');
    expect(lines[0]).toMatch(/^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    expect(
      lines.some((l) => /^root\s+\d+\s+\d+\s+.*sleep 1000$/.test(l)),
      lines.join('\n'),
    ).toBe(true);
    expect(await hyprOk(d, ['container', 'top', 'tools', '--json'])).toContain('"titles"');
  });

  test('stats --no-stream prints one table with the VM memory, and --format fields', async () => {
    const [header, row] = (await hyprOk(d, ['stats', '--no-stream'])).trim().split('\n');
    expect(header).toMatch(/^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
    expect(row).toMatch(
      /^[0-9a-f]{12}\s+tools\s+[\d.]+%\s+[\d.]+\w?i?B \/ [\d.]+\w?i?B\s+[\d.]+%\s+\S+ \/ \S+\s+\S+ \/ \S+\s+\d+$/,
    );
    const f = await hyprOk(d, ['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'tools']);
    expect(f).toMatch(/^tools [1-9]\d*\n$/);
  });

  test('commit makes an image with the changes; diff lists them; history shows the commit', async () => {
    await inside('echo committed > /c.txt && rm /fromtar/data/one /etc/group');
    const diff = await hyprOk(d, ['diff', 'tools']);
    expect(diff.split('\n')).toEqual(expect.arrayContaining(['A /c.txt', 'C /etc', 'D /etc/group']));
    expect(diff).not.toContain('/etc/hostname');
    const id = (
      await hyprOk(d, ['commit', '-m', 'with c.txt', '-c', 'ENV COMMITTED=yes', 'tools', 'e2e/committed:1'])
    ).trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const out = await hyprOk(d, [
      'run',
      '--rm',
      'e2e/committed:1',
      'sh',
      '-c',
      'cat /c.txt; echo $COMMITTED; ls /fromtar/data; test -e /etc/group || echo no-group',
    ]);
    expect(out).toBe('committed\nyes\nsub\nno-group\n');
    const history = (await hyprOk(d, ['image', 'history', 'e2e/committed:1'])).trim().split('\n');
    expect(history[0]).toMatch(/^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    expect(history[1]).toMatch(new RegExp(`^${id.slice(7, 19)}\\s+.*sleep 1000\\s+\\S+\\s+with c.txt$`));
    expect(history.length).toBeGreaterThan(2);
  });

  test('export writes the whole filesystem; image import makes an image of a tarball', async () => {
    const tar = join(work, 'export.tar');
    await hyprOk(d, ['export', '-o', tar, 'tools']);
    const names = execFileSync('tar', ['-tf', tar], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n');
    expect(names).toEqual(expect.arrayContaining(['c.txt', 'fromtar/data/sub/two']));
    expect(names.some((n) => n.startsWith('bin/'))).toBe(true);
    expect(names).not.toContain('fromtar/data/one');
    const id = (
      await hyprOk(d, ['image', 'import', '-m', 'from export', '-c', 'CMD ["cat", "/c.txt"]', tar, 'e2e/imported:1'])
    ).trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await hyprOk(d, ['run', '--rm', 'e2e/imported:1'])).toBe('committed\n');
    expect(await hyprOk(d, ['image', 'history', '--format', '{{.Comment}}', 'e2e/imported:1'])).toBe('from export\n');
  });
});
