import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { type Daemon, type E2eEnv, hypr, hyprOk, startDaemon, startE2eEnv } from './helpers.js';

// Each CLI call starts a node process (seconds on a loaded 2-core host), and VMs boot under TCG.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

// Volumes through the real CLI, a real hyprd and real microVMs (TCG here): 7 VM boots in all.
let env: E2eEnv & { refs: string[] };
let d: Daemon;
let image: string;
let seeded: string;
beforeAll(async () => {
  env = await startE2eEnv([
    { name: 'busybox:latest' },
    {
      // A layer with files at /srv/seed, declared as a VOLUME: what copy-up must bring into a new volume.
      name: 'seeded:1',
      opts: {
        config: { Volumes: { '/srv/seed': {} } },
        extraLayers: [
          [
            { path: 'srv', type: 'directory', mode: 0o755 },
            { path: 'srv/seed', type: 'directory', mode: 0o750, uid: 1000, gid: 1000 },
            { path: 'srv/seed/hello.txt', type: 'file', mode: 0o640, uid: 1000, gid: 1000, data: 'from the image\n' },
            { path: 'srv/seed/link', type: 'symlink', linkpath: 'hello.txt' },
          ],
        ],
      },
    },
  ]);
  [image, seeded] = env.refs;
  d = await startDaemon({ dir: env.dir });
  await hyprOk(d, ['pull', '-q', image]);
  await hyprOk(d, ['pull', '-q', seeded]);
});
afterAll(async () => {
  await d?.stop();
  await env?.cleanup();
});

const inspect = async (name: string) => JSON.parse(await hyprOk(d, ['inspect', name]))[0];
const volumeData = (name: string) => join(d.home, 'volumes', name, '_data');

describe('hypr volume', () => {
  test('create, ls with filters, inspect, rm and prune', async () => {
    expect(await hyprOk(d, ['volume', 'create', '--label', 'team=db', 'v-labelled'])).toBe('v-labelled\n');
    expect(await hyprOk(d, ['volume', 'create', 'v-plain'])).toBe('v-plain\n');
    // docker: creating an existing volume again is not an error
    expect(await hyprOk(d, ['volume', 'create', 'v-plain'])).toBe('v-plain\n');
    expect(await hyprOk(d, ['volume', 'ls', '-q', '--filter', 'label=team=db'])).toBe('v-labelled\n');
    expect(await hyprOk(d, ['volume', 'ls', '-q', '--filter', 'name=plain'])).toBe('v-plain\n');
    const table = await hyprOk(d, ['volume', 'ls']);
    expect(table).toMatch(/^DRIVER\s+VOLUME NAME\n/);
    expect(table).toMatch(/local\s+v-plain/);
    const [doc] = JSON.parse(await hyprOk(d, ['volume', 'inspect', 'v-labelled']));
    expect(doc).toMatchObject({
      Name: 'v-labelled',
      Driver: 'local',
      Labels: { team: 'db' },
      Mountpoint: volumeData('v-labelled'),
      Scope: 'local',
    });
    expect(statSync(doc.Mountpoint).isDirectory()).toBe(true);
    const missing = await hypr(d, ['volume', 'rm', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no such volume');
    expect((await hypr(d, ['volume', 'rm', '-f', 'nope'])).code).toBe(0);
    // prune takes anonymous volumes only, unless -a
    expect(await hyprOk(d, ['volume', 'prune', '-f'])).not.toContain('v-plain');
    expect(await hyprOk(d, ['volume', 'prune', '-f', '-a', '--filter', 'label=team=db'])).toContain('v-labelled');
    expect(await hyprOk(d, ['volume', 'rm', 'v-plain'])).toBe('v-plain\n');
    expect(existsSync(join(d.home, 'volumes', 'v-plain'))).toBe(false);
    expect(await hyprOk(d, ['volume', 'ls', '-q'])).toBe('');
  });

  test('bad mount flags fail at create, naming the flag and the value', async () => {
    const rel = await hypr(d, ['create', '-v', './data:/data', image]);
    expect(rel.code).toBe(125);
    expect(rel.stderr).toContain('invalid argument "./data:/data" for "--volume" flag');
    const absent = await hypr(d, ['create', '--mount', `type=bind,src=${env.dir}/absent,dst=/x`, image]);
    expect(absent.code).toBe(125);
    expect(absent.stderr).toContain('bind source path does not exist');
    expect(absent.stderr).toContain('"--mount" flag');
    const tmpfs = await hypr(d, ['create', '--tmpfs', 'relative', image]);
    expect(tmpfs.stderr).toContain('invalid argument "relative" for "--tmpfs" flag');
    expect(await hyprOk(d, ['ps', '-a', '-q'])).toBe('');
  });
});

describe('named and anonymous volumes', () => {
  test('data in a named volume outlives its container; in use, it cannot be removed; rm -v takes only anonymous volumes', async () => {
    await hyprOk(d, [
      'run',
      '--name',
      'writer',
      '-v',
      'keep:/data',
      '-v',
      '/scratch',
      image,
      'sh',
      '-c',
      'echo kept > /data/f && echo gone > /scratch/g',
    ]);
    const info = await inspect('writer');
    const anon = info.Mounts.find((m: { Destination: string }) => m.Destination === '/scratch');
    expect(anon).toMatchObject({ Type: 'volume', Driver: 'local', RW: true });
    expect(anon.Name).toMatch(/^[0-9a-f]{64}$/);
    expect(info.Mounts.find((m: { Destination: string }) => m.Destination === '/data')).toMatchObject({
      Type: 'volume',
      Name: 'keep',
      Source: volumeData('keep'),
      RW: true,
    });
    expect(readFileSync(join(volumeData('keep'), 'f'), 'utf8')).toBe('kept\n');
    expect(readFileSync(join(volumeData(anon.Name), 'g'), 'utf8')).toBe('gone\n');

    const inUse = await hypr(d, ['volume', 'rm', 'keep']);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toContain('volume is in use');
    expect(inUse.stderr).toContain(info.Id);
    expect(inUse.stderr).toContain('writer');
    expect(await hyprOk(d, ['volume', 'ls', '-q', '--filter', 'dangling=true'])).toBe('');

    await hyprOk(d, ['rm', '-v', 'writer']);
    const left = (await hyprOk(d, ['volume', 'ls', '-q'])).split('\n').filter(Boolean);
    expect(left).toEqual(['keep']);
    expect(existsSync(join(d.home, 'volumes', anon.Name))).toBe(false);

    // A new container sees the data, through --volumes-from of a created (never started) holder, read-only.
    await hyprOk(d, ['create', '--name', 'holder', '-v', 'keep:/data', image]);
    const r = await hypr(d, [
      'run',
      '--rm',
      '--volumes-from',
      'holder:ro',
      image,
      'sh',
      '-c',
      'cat /data/f; touch /data/new 2>&1; true',
    ]);
    expect(r.stdout).toContain('kept\n');
    expect(r.stdout).toContain('Read-only file system');
    await hyprOk(d, ['rm', 'holder']);
    expect(await hyprOk(d, ['volume', 'ls', '-q', '--filter', 'dangling=true'])).toBe('keep\n');
    await hyprOk(d, ['volume', 'rm', 'keep']);
  });

  test("a new volume is filled from the image's files at its target (copy-up), also for image VOLUMEs", async () => {
    const out = await hyprOk(d, [
      'run',
      '--rm',
      '-v',
      'seedvol:/srv/seed',
      seeded,
      'sh',
      '-c',
      'cat /srv/seed/hello.txt; stat -c "%a %u:%g" /srv/seed /srv/seed/hello.txt; readlink /srv/seed/link',
    ]);
    expect(out).toBe('from the image\n750 1000:1000\n640 1000:1000\nhello.txt\n');
    expect(readFileSync(join(volumeData('seedvol'), 'hello.txt'), 'utf8')).toBe('from the image\n');
    await hyprOk(d, ['volume', 'rm', 'seedvol']);

    // No -v: the image's VOLUME gets an anonymous volume, filled the same way, removed with --rm.
    expect(await hyprOk(d, ['run', '--rm', seeded, 'cat', '/srv/seed/hello.txt'])).toBe('from the image\n');
    expect(await hyprOk(d, ['volume', 'ls', '-q'])).toBe('');
  });
});

describe('bind mounts and tmpfs', () => {
  test('a bind mount reads and writes host files; a missing -v source is created', async () => {
    const host = join(env.dir, 'bind');
    await mkdir(host);
    await writeFile(join(host, 'in.txt'), 'from the host\n');
    const created = join(env.dir, 'made-by-v');
    const out = await hyprOk(d, [
      'run',
      '--rm',
      '-v',
      `${host}:/h`,
      '-v',
      `${created}:/m`,
      image,
      'sh',
      '-c',
      'cat /h/in.txt; echo from the guest > /h/out.txt; mkdir /h/sub; touch /m/x',
    ]);
    expect(out).toBe('from the host\n');
    expect(readFileSync(join(host, 'out.txt'), 'utf8')).toBe('from the guest\n');
    expect(statSync(join(host, 'sub')).isDirectory()).toBe(true);
    expect(await readdir(created)).toEqual(['x']);
  });

  test(':ro is enforced by the guest kernel (EROFS); --tmpfs and --mount type=tmpfs are tmpfs', async () => {
    const host = join(env.dir, 'ro');
    await mkdir(host);
    await writeFile(join(host, 'f'), 'read me\n');
    const r = await hypr(d, [
      'run',
      '--rm',
      '-v',
      `${host}:/ro:ro`,
      '--tmpfs',
      '/scratch:size=8m,mode=700',
      '--mount',
      'type=tmpfs,dst=/t2,tmpfs-size=4m',
      image,
      'sh',
      '-c',
      'cat /ro/f; echo x > /ro/new; grep -E " /(scratch|t2) " /proc/mounts; stat -c %a /scratch; df -k /scratch | tail -1',
    ]);
    expect(r.stdout).toContain('read me\n');
    expect(r.stderr).toContain('Read-only file system');
    expect(existsSync(join(host, 'new'))).toBe(false);
    expect(r.stdout).toMatch(/^tmpfs \/scratch tmpfs /m);
    expect(r.stdout).toMatch(/^tmpfs \/t2 tmpfs /m);
    expect(r.stdout).toMatch(/^700$/m);
    expect(r.stdout).toMatch(/^tmpfs\s+8192\s/m);
  });
});

describe('durability', () => {
  test('what the program wrote and fsynced is on the host when stop returns', async () => {
    await hyprOk(d, [
      'run',
      '-d',
      '--name',
      'dur',
      '-v',
      'durable:/data',
      image,
      'sh',
      '-c',
      'echo synced | dd of=/data/synced conv=fsync 2>/dev/null; echo plain > /data/plain; echo ready; sleep 1000',
    ]);
    for (let i = 0; i < 150 && !(await hyprOk(d, ['logs', 'dur'])).includes('ready'); i++)
      await new Promise((r) => setTimeout(r, 200));
    await hyprOk(d, ['stop', '-t', '1', 'dur']);
    expect(readFileSync(join(volumeData('durable'), 'synced'), 'utf8')).toBe('synced\n');
    expect(readFileSync(join(volumeData('durable'), 'plain'), 'utf8')).toBe('plain\n');
    await hyprOk(d, ['rm', '-v', 'dur']);
    expect(await hyprOk(d, ['volume', 'ls', '-q'])).toBe('durable\n');
    await hyprOk(d, ['volume', 'rm', 'durable']);
  });
});
