import { spawn } from 'node:child_process';
import { release } from 'node:os';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { createHyprClient } from '../../packages/api/src/index.js';
import {
  type Daemon,
  type E2eEnv,
  HYPR,
  hypr,
  hyprOk,
  hyprOnPty,
  startDaemon,
  startE2eEnv,
  waitFor,
} from './helpers.js';

// VMs boot under TCG on a shared machine: allow for a slow, loaded host.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

// Container lifecycle through the real CLI, a real hyprd and real microVMs (TCG here).
let env: E2eEnv & { refs: string[] };
let d: Daemon;
let image: string;
let configured: string;
/** Pushed to the registry, never pulled: `hypr run` pulls it. */
let unpulled: string;
beforeAll(async () => {
  env = await startE2eEnv([
    { name: 'busybox:latest' },
    { name: 'unpulled:1' },
    {
      name: 'configured:1',
      opts: {
        config: {
          Entrypoint: ['sh', '-c'],
          Cmd: ['echo "$GREETING from $(pwd) as $(id -u)"'],
          Env: ['PATH=/bin', 'GREETING=hello'],
          WorkingDir: '/tmp',
          User: '65534',
          StopSignal: 'SIGUSR1',
        },
      },
    },
  ]);
  [image, unpulled, configured] = env.refs;
  d = await startDaemon({ dir: env.dir });
  await hyprOk(d, ['pull', '-q', image]);
  await hyprOk(d, ['pull', '-q', configured]);
});
afterAll(async () => {
  await d?.shutdown();
  await env?.cleanup();
});

const inspect = async (name: string) => JSON.parse(await hyprOk(d, ['inspect', name]))[0];

// `hypr run` is served without oclif (packages/cli/src/fast-run.ts) until the create fails; then oclif runs it
// from the start: these are the runs it hands over.
describe('run of an image that is not here', () => {
  test('pulls it first, as docker run does', async () => {
    const r = await hypr(d, ['run', '--rm', unpulled, 'echo', 'hi']);
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: 'hi\n' });
    expect(r.stderr).toContain(`Unable to find image '${unpulled}' locally`);
  });

  test("--pull never: docker's error and status, and no container left", async () => {
    const r = await hypr(d, ['run', '--rm', '--pull', 'never', `${unpulled}-missing`, 'true']);
    expect(r).toMatchObject({ code: 125 });
    expect(r.stderr).toContain(`No such image: ${unpulled}-missing`);
    expect(await hyprOk(d, ['ps', '-a', '-q'])).toBe('');
  });
});

describe('run attached', () => {
  test('prints stdout and stderr and exits with the container exit code; --rm removes it', async () => {
    const r = await hypr(d, ['run', '--rm', image, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r, r.stderr).toMatchObject({ code: 3, stdout: 'out\n' });
    expect(r.stderr).toContain('err\n');
    expect(await hyprOk(d, ['ps', '-a', '-q'])).toBe('');
  });

  test("the image's Entrypoint, Cmd, Env, WorkingDir and User apply, and flags override them", async () => {
    expect(await hyprOk(d, ['run', '--rm', configured])).toBe('hello from /tmp as 65534\n');
    expect(
      await hyprOk(d, [
        'run',
        '--rm',
        '-e',
        'GREETING=hi',
        '-w',
        '/',
        '-u',
        '0',
        configured,
        'echo "$GREETING $(pwd) $(id -u)"',
      ]),
    ).toBe('hi / 0\n');
    expect(await hyprOk(d, ['run', '--rm', '--entrypoint', 'echo', configured, 'plain', 'args'])).toBe('plain args\n');
  });

  test('flags after the image belong to the command, and combined short flags parse', async () => {
    expect(await hyprOk(d, ['run', '--rm', '-eA=1', '-e', 'B=2', image, 'sh', '-c', 'echo $A$B', '-x'])).toBe('12\n');
  });

  test('docker exit statuses: 127 for a missing command, 126 for one that cannot run, 125 for our own errors', async () => {
    const missing = await hypr(d, ['run', '--rm', image, '/no/such/binary']);
    expect(missing.code).toBe(127);
    const notExec = await hypr(d, ['run', '--rm', image, '/etc/passwd']);
    expect(notExec.code).toBe(126);
    const noImage = await hypr(d, ['run', '--rm', '--pull', 'never', `${env.registry.host}/absent:1`]);
    expect(noImage.code).toBe(125);
    expect(noImage.stderr).toContain('No such image');
    const badFlag = await hypr(d, ['run', '--frobnicate', image]);
    expect(badFlag.code).toBe(125);
    expect(badFlag.stderr).toContain("See 'hypr run --help'.");
  });

  test('Ctrl-C on an attached run reaches the program (--sig-proxy), which decides how to exit', async () => {
    const child = spawn(
      process.execPath,
      [
        HYPR,
        'run',
        '--rm',
        image,
        'sh',
        '-c',
        'trap "echo got INT; exit 9" INT; echo ready; while true; do sleep 0.1; done',
      ],
      {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, HYPR_HOST: d.host },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (b) => {
      out += b;
      if (out.includes('ready')) child.kill('SIGINT');
    });
    const code = await new Promise((r) => child.once('exit', r));
    expect(out).toBe('ready\ngot INT\n');
    expect(code).toBe(9);
  });

  test('run -i passes stdin to the program, and its end closes it', async () => {
    const r = await hypr(
      d,
      ['run', '--rm', '-i', image, 'sh', '-c', 'while read l; do echo "got $l"; done; echo eof'],
      {
        input: 'one\ntwo\n',
      },
    );
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: 'got one\ngot two\neof\n' });
  });

  test('run -it is an interactive shell on a real terminal in the guest', async () => {
    const r = await hyprOnPty(d, ['run', '--rm', '-it', image, 'sh'], 'tty; echo "answer $((6*7))"; exit 3\n', {
      ready: /# /,
    });
    expect(r.stdout).toMatch(/\/dev\/(pts\/\d+|console|tty\w*)/);
    expect(r.stdout).toContain('answer 42');
    expect(r.code).toBe(3);
  });

  test('-it without a terminal is refused as docker does', async () => {
    const r = await hypr(d, ['run', '--rm', '-it', image, 'sh']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the input device is not a TTY');
  });
});

describe('run detached', () => {
  test('prints the full id; ps, logs, inspect, stop with the grace period, rm', async () => {
    const id = (
      await hyprOk(d, [
        'run',
        '-d',
        '--name',
        'web',
        '-l',
        'tier=front',
        image,
        'sh',
        '-c',
        'trap "echo got TERM; exit 0" TERM; echo started; while true; do sleep 0.1; done',
      ])
    ).trim();
    expect(id).toMatch(/^[a-f0-9]{64}$/);
    await waitFor(async () => (await hyprOk(d, ['logs', 'web'])).includes('started'), 120_000, 'output');
    const ps = await hyprOk(d, ['ps']);
    const [header, row] = ps.trim().split('\n');
    expect(header).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    expect(row).toContain(id.slice(0, 12));
    expect(row).toMatch(/Up (Less than a second|\d+ seconds?)/);
    expect(row).toMatch(/web$/);
    expect(await hyprOk(d, ['ps', '--format', '{{.Names}} {{.State}} {{.Label "tier"}}'])).toBe('web running front\n');
    expect(await hyprOk(d, ['ps', '-q', '--no-trunc'])).toBe(`${id}\n`);
    const info = await inspect('web');
    expect(info).toMatchObject({
      Id: id,
      Name: '/web',
      State: { Status: 'running', Running: true },
      Config: { Labels: { tier: 'front' } },
    });
    // a unique prefix names it too
    expect((await inspect(id.slice(0, 8))).Id).toBe(id);
    const running = await hypr(d, ['rm', 'web']);
    expect(running.code).toBe(1);
    expect(running.stderr).toContain('container is running');
    await hyprOk(d, ['stop', '-t', '10', 'web']);
    expect(await hyprOk(d, ['logs', 'web'])).toBe('started\ngot TERM\n');
    expect(await inspect('web')).toMatchObject({ State: { Status: 'exited', ExitCode: 0, Running: false } });
    expect(await hyprOk(d, ['ps', '-a', '--format', '{{.Status}}'])).toMatch(/^Exited \(0\) /);
    await hyprOk(d, ['rm', 'web']);
    expect((await hypr(d, ['inspect', 'web'])).code).toBe(1);
  });

  test('stop sends SIGKILL after the grace period when the program ignores the signal', async () => {
    await hyprOk(d, [
      'run',
      '-d',
      '--name',
      'stubborn',
      image,
      'sh',
      '-c',
      'trap "" TERM; echo up; while true; do sleep 0.1; done',
    ]);
    await waitFor(async () => (await hyprOk(d, ['logs', 'stubborn'])).includes('up'), 120_000, 'output');
    const started = Date.now();
    await hyprOk(d, ['stop', '-t', '1', 'stubborn']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect((await inspect('stubborn')).State.ExitCode).toBe(137);
    await hyprOk(d, ['rm', 'stubborn']);
  });

  test("the image's StopSignal is what stop sends", async () => {
    await hyprOk(d, [
      'run',
      '-d',
      '--name',
      'usr1',
      configured,
      'trap "echo got USR1; exit 5" USR1; echo up; while true; do sleep 0.1; done',
    ]);
    await waitFor(async () => (await hyprOk(d, ['logs', 'usr1'])).includes('up'), 120_000, 'output');
    await hyprOk(d, ['stop', 'usr1']);
    expect(await hyprOk(d, ['logs', 'usr1'])).toContain('got USR1');
    expect((await inspect('usr1')).State.ExitCode).toBe(5);
    await hyprOk(d, ['rm', 'usr1']);
  });

  test('logs -f follows new output until the container exits; --tail and -t', async () => {
    await hyprOk(d, [
      'run',
      '-d',
      '--name',
      'ticker',
      image,
      'sh',
      '-c',
      'for i in 1 2 3 4 5; do echo tick $i; sleep 0.3; done',
    ]);
    const follow = await hyprOk(d, ['logs', '-f', 'ticker']);
    expect(follow).toBe('tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n');
    expect(await hyprOk(d, ['logs', '--tail', '2', 'ticker'])).toBe('tick 4\ntick 5\n');
    const stamped = (await hyprOk(d, ['logs', '-t', '--tail', '1', 'ticker'])).trim();
    expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z tick 5$/);
    expect(await hyprOk(d, ['wait', 'ticker'])).toBe('0\n');
    await hyprOk(d, ['rm', 'ticker']);
  });

  test('a name in use is refused, naming the container that has it', async () => {
    const id = (await hyprOk(d, ['create', '--name', 'dup', image, 'true'])).trim();
    const again = await hypr(d, ['run', '--name', 'dup', image, 'true']);
    expect(again.code).toBe(125);
    expect(again.stderr).toContain(`The container name "/dup" is already in use by container "${id}"`);
    await hyprOk(d, ['rm', 'dup']);
  });

  test('the writable layer persists across stop and start until rm', async () => {
    await hyprOk(d, ['create', '--name', 'counter', image, 'sh', '-c', 'echo run >> /root/count; wc -l < /root/count']);
    expect((await hyprOk(d, ['start', '-a', 'counter'])).trim()).toBe('1');
    expect((await hyprOk(d, ['start', '-a', 'counter'])).trim()).toBe('2');
    await hyprOk(d, ['rm', 'counter']);
  });

  test('attach streams the output of a running container from now on, and exits with its code', async () => {
    // The program must still run when `hypr attach` reaches the daemon: two CLI starts on a loaded host
    // took more than the 5 s it used to wait.
    await hyprOk(d, ['run', '-d', '--name', 'later', image, 'sh', '-c', 'echo early; sleep 20; echo late; exit 6']);
    await waitFor(async () => (await hyprOk(d, ['logs', 'later'])).includes('early'), 120_000, 'output');
    const r = await hypr(d, ['attach', 'later']);
    expect(r, r.stderr).toMatchObject({ code: 6, stdout: 'late\n' });
    await hyprOk(d, ['rm', 'later']);
  });

  test('health checks run in the guest: starting, healthy, then unhealthy after the retries fail', async () => {
    await hyprOk(d, [
      'run',
      '-d',
      '--name',
      'checked',
      '--health-cmd',
      'test -f /tmp/ok',
      '--health-interval',
      '1s',
      '--health-retries',
      '2',
      '--health-start-period',
      '60s',
      image,
      'sh',
      '-c',
      'sleep 2; touch /tmp/ok; exec sleep 600',
    ]);
    const health = async () => hyprOk(d, ['inspect', '--format', '{{.State.Health.Status}}', 'checked']);
    expect(await health()).toBe('starting\n');
    await waitFor(async () => (await health()) === 'healthy\n', 120_000, 'healthy');
    expect(await hyprOk(d, ['ps', '--format', '{{.Status}}', '--filter', 'name=checked'])).toMatch(
      /^Up .* \(healthy\)$/m,
    );
    await hyprOk(d, ['exec', 'checked', 'rm', '/tmp/ok']);
    await waitFor(async () => (await health()) === 'unhealthy\n', 120_000, 'unhealthy');
    const [info] = JSON.parse(await hyprOk(d, ['inspect', 'checked']));
    expect(info.State.Health.FailingStreak).toBeGreaterThanOrEqual(2);
    expect(info.State.Health.Log.at(-1)).toMatchObject({ ExitCode: 1 });
    await hyprOk(d, ['rm', '-f', 'checked']);
  });

  test('events --since replays the lifecycle in docker format; --filter and --format narrow it', async () => {
    expect((await hypr(d, ['run', '--name', 'evt', image, 'sh', '-c', 'exit 2'])).code).toBe(2);
    await hyprOk(d, ['rm', 'evt']);
    const lines = (await hyprOk(d, ['events', '--since', '10m', '--until', '0s', '--filter', 'container=evt']))
      .trim()
      .split('\n');
    expect(lines.map((l) => l.split(' ')[2])).toEqual(['create', 'start', 'die', 'destroy']);
    expect(lines[2]).toMatch(
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z container die [a-f0-9]{64} \\(exitCode=2, image=${image.replace(/[.]/g, '\\.')}, name=evt\\)$`,
      ),
    );
    expect(
      await hyprOk(d, [
        'events',
        '--since',
        '10m',
        '--until',
        '0s',
        '-f',
        'container=evt',
        '-f',
        'event=die',
        '--format',
        '{{.Action}} {{.Actor.Attributes.exitCode}}',
      ]),
    ).toBe('die 2\n');
  });

  test('restart policy on-failure:2 restarts a failing container twice, then leaves it exited', async () => {
    await hyprOk(d, [
      'run',
      '-d',
      '--name',
      'flaky',
      '--restart',
      'on-failure:2',
      image,
      'sh',
      '-c',
      'echo try; exit 1',
    ]);
    const info = await waitFor(
      async () => {
        const i = await inspect('flaky');
        return i.RestartCount === 2 && i.State.Status === 'exited' ? i : undefined;
      },
      240_000,
      'two restarts',
    );
    expect(info.State.ExitCode).toBe(1);
    expect(await hyprOk(d, ['logs', 'flaky'])).toBe('try\ntry\ntry\n');
    await hyprOk(d, ['rm', 'flaky']);
  });

  test('kill -s sends a signal; rm -f removes a running container', async () => {
    await hyprOk(d, [
      'run',
      '-d',
      '--name',
      'target',
      image,
      'sh',
      '-c',
      'trap "echo hup" HUP; echo up; while true; do sleep 0.1; done',
    ]);
    await waitFor(async () => (await hyprOk(d, ['logs', 'target'])).includes('up'), 120_000, 'output');
    await hyprOk(d, ['kill', '-s', 'HUP', 'target']);
    await waitFor(async () => (await hyprOk(d, ['logs', 'target'])).includes('hup'), 120_000, 'the trap');
    expect((await inspect('target')).State.Status).toBe('running');
    await hyprOk(d, ['rm', '-f', 'target']);
    expect(await hyprOk(d, ['ps', '-a', '-q', '--filter', 'name=target'])).toBe('');
  });

  test('exec runs programs in the running container: exit codes, env, workdir, user, stdin, a terminal', async () => {
    await hyprOk(d, ['run', '-d', '--name', 'execme', '-e', 'FROM_RUN=yes', '-w', '/tmp', image, 'sleep', '600']);
    expect(await hyprOk(d, ['exec', 'execme', 'sh', '-c', 'echo $FROM_RUN $(pwd)'])).toBe('yes /tmp\n');
    expect(
      await hyprOk(d, [
        'exec',
        '-e',
        'X=1',
        '-w',
        '/etc',
        '-u',
        '65534',
        'execme',
        'sh',
        '-c',
        'echo $X $(pwd) $(id -u)',
      ]),
    ).toBe('1 /etc 65534\n');
    expect((await hypr(d, ['exec', 'execme', 'sh', '-c', 'exit 7'])).code).toBe(7);
    expect((await hypr(d, ['exec', 'execme', '/no/such/binary'])).code).toBe(127);
    const piped = await hypr(d, ['exec', '-i', 'execme', 'cat'], { input: 'through stdin\n' });
    expect(piped.stdout).toBe('through stdin\n');
    const it = await hyprOnPty(d, ['exec', '-it', 'execme', 'sh'], 'tty; exit 4\n', { ready: /# / });
    expect(it.stdout).toMatch(/\/dev\/(pts\/\d+|console|tty\w*)/);
    expect(it.code).toBe(4);
    expect(await hyprOk(d, ['exec', '-d', 'execme', 'sh', '-c', 'sleep 1; echo bg > /tmp/bg'])).toBe('');
    await waitFor(
      async () => (await hypr(d, ['exec', 'execme', 'cat', '/tmp/bg'])).stdout === 'bg\n',
      120_000,
      'exec -d',
    );
    await hyprOk(d, ['rm', '-f', 'execme']);
    const gone = await hypr(d, ['exec', 'execme', 'true']);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('No such container: execme');
  });
});

// What hypr's CLI will call for rename, update, system df and info: the daemon's API, through a real client.
describe('container admin through the API', () => {
  test('following logs for a while leaves hyprd without a MaxListenersExceededWarning', async () => {
    await hyprOk(d, [
      'run',
      '-d',
      '--name',
      'chatter',
      image,
      'sh',
      '-c',
      'i=0; while [ $i -lt 30 ]; do echo line $i; i=$((i+1)); sleep 0.2; done',
    ]);
    // About 6 s of following: over a hundred polls of the log on one request.
    const follow = await hyprOk(d, ['logs', '-f', 'chatter']);
    expect(follow.trim().split('\n')).toHaveLength(30);
    expect(d.log()).not.toContain('MaxListenersExceededWarning');
    await hyprOk(d, ['rm', 'chatter']);
  });

  test('rename, update --restart any time, --memory/--cpus only while stopped; ps carries networks', async () => {
    const api = createHyprClient({ host: d.host });
    await hyprOk(d, ['create', '--name', 'before', image, 'true']);
    expect(await api.containers.rename({ id: 'before', name: 'after' })).toMatchObject({ name: 'after' });
    expect((await hypr(d, ['inspect', 'before'])).code).not.toBe(0);
    await api.containers.update({ id: 'after', restartPolicy: { name: 'on-failure', maximumRetryCount: 2 } });
    await api.containers.update({ id: 'after', memoryBytes: 128n * 1024n * 1024n, cpus: 2 });
    const stopped = await inspect('after');
    expect(stopped.HostConfig).toMatchObject({
      RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 },
      Memory: 128 * 1024 * 1024,
      NanoCpus: 2e9,
    });
    await hyprOk(d, ['run', '-d', '--name', 'busy', image, 'sleep', '300']);
    const refused = await api.containers.update({ id: 'busy', memoryBytes: 64n * 1024n * 1024n }).catch((e) => e);
    // Connect's FailedPrecondition (9), with the HyprError code in the metadata.
    expect(refused).toMatchObject({ name: 'ConnectError', code: 9 });
    expect(refused.metadata.get('hypr-error-code')).toBe('CONTAINER_IS_RUNNING');
    expect(refused.rawMessage).toContain('while it runs');
    await api.containers.update({ id: 'busy', restartPolicy: { name: 'always' } });
    expect((await inspect('busy')).HostConfig.RestartPolicy.Name).toBe('always');
    // This daemon runs with "bridge": "none": its containers join no network.
    const { containers } = await api.containers.list({ all: true });
    expect(containers.find((c) => c.name === 'busy')?.networks).toEqual(['none']);
    await hyprOk(d, ['rm', '-f', 'busy', 'after']);
  });

  test('pause freezes the VM: ps says Paused, exec is refused; unpause resumes it; stop works', async () => {
    const api = createHyprClient({ host: d.host });
    await hyprOk(d, ['run', '-d', '--name', 'frozen', image, 'sleep', '300']);
    await api.containers.pause({ id: 'frozen' });
    const ps = await hyprOk(d, ['ps', '--filter', 'name=frozen', '--format', '{{.Status}}']);
    expect(ps).toMatch(/^Up .* \(Paused\)\n$/);
    expect((await inspect('frozen')).State).toMatchObject({ Status: 'paused', Running: true, Paused: true });
    const again = await api.containers.pause({ id: 'frozen' }).catch((e) => e);
    expect(again.metadata.get('hypr-error-code')).toBe('CONTAINER_IS_PAUSED');
    const exec = await hypr(d, ['exec', 'frozen', 'true']);
    expect(exec.code).not.toBe(0);
    expect(exec.stderr).toContain('is paused, unpause the container before exec');
    expect((await api.system.info({})).containersPaused).toBeGreaterThanOrEqual(1);
    await api.containers.unpause({ id: 'frozen' });
    expect((await inspect('frozen')).State).toMatchObject({ Status: 'running', Paused: false });
    expect(await hyprOk(d, ['exec', 'frozen', 'echo', 'thawed'])).toBe('thawed\n');
    await api.containers.pause({ id: 'frozen' });
    // stop on a paused container resumes it first, as docker does.
    await hyprOk(d, ['stop', '-t', '1', 'frozen']);
    expect((await inspect('frozen')).State.Status).toBe('exited');
    await hyprOk(d, ['rm', 'frozen']);
  });

  test('system df counts images, containers and their disk; info says what runs where', async () => {
    const api = createHyprClient({ host: d.host });
    await hyprOk(d, ['run', '-d', '--name', 'dfme', image, 'sh', '-c', 'echo data > /root/file; sleep 300']);
    const df = await api.system.diskUsage({});
    const img = df.images.find((i) => i.containers > 0);
    expect(img?.sizeBytes).toBeGreaterThan(0n);
    expect(img && img.sharedSizeBytes + img.uniqueSizeBytes).toBe(img?.sizeBytes);
    const c = df.containers.find((x) => x.name === 'dfme');
    expect(c).toMatchObject({ state: 'running', image });
    expect(c?.sizeBytes).toBeGreaterThan(0n);
    const info = await api.system.info({});
    expect(info).toMatchObject({ apiVersion: 'v1', kernelVersionHost: release() });
    expect(info.defaultCpus).toBeGreaterThanOrEqual(1);
    expect(info.containersRunning).toBeGreaterThanOrEqual(1);
    expect(info.hypervisorVersion).toMatch(/QEMU|unknown/);
    await hyprOk(d, ['rm', '-f', 'dfme']);
  });
});
