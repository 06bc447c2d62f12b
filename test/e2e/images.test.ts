import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { type TestRegistry, startRegistry } from '../../packages/core/test/helpers/registry.js';
import { type Daemon, type E2eEnv, hypr, hyprOk, startDaemon, startE2eEnv } from './helpers.js';

// VMs boot under TCG on a shared machine: allow for a slow, loaded host.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

// Images through the CLI and the daemon: pull, images, tag, push, save/load, rmi, login, prune, info.
let env: E2eEnv;
let d: Daemon;
let secure: TestRegistry;
beforeAll(async () => {
  env = await startE2eEnv();
  secure = await startRegistry({ auth: { username: 'alice', password: 's3cret' } });
  d = await startDaemon({ dir: env.dir });
});
afterAll(async () => {
  await d?.shutdown();
  await secure?.stop();
  await env?.cleanup();
});

test('pull shows progress, then images lists it like docker', async () => {
  const out = await hyprOk(d, ['pull', env.image]);
  expect(out).toContain(`Pulling ${env.image}`);
  expect(out).toMatch(/[a-f0-9]{12}: Pull complete/);
  expect(out).toMatch(/Digest: sha256:[a-f0-9]{64}/);
  // docker's two endings: something came over the wire, or nothing had to
  expect(out).toContain(`Status: Downloaded newer image for ${env.image}`);
  const again = await hyprOk(d, ['pull', env.image]);
  expect(again).toContain(`Status: Image is up to date for ${env.image}`);
  expect(again).not.toContain('Pull complete');
  const [header, row] = (await hyprOk(d, ['images'])).trim().split('\n');
  expect(header).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
  expect(row).toMatch(
    new RegExp(`^${env.registry.host}/busybox\\s+latest\\s+[a-f0-9]{12}\\s+\\S.* ago\\s+[\\d.]+[kM]B$`),
  );
  expect(await hyprOk(d, ['images', '--format', '{{.Repository}}:{{.Tag}}'])).toBe(
    `${env.registry.host}/busybox:latest\n`,
  );
});

test('tag, push to another repository and pull it back by the new name', async () => {
  const target = `${env.registry.host}/copies/bb:v2`;
  await hyprOk(d, ['tag', env.image, target]);
  const out = await hyprOk(d, ['push', target]);
  expect(out).toMatch(/v2: digest: sha256:[a-f0-9]{64}/);
  const res = await fetch(`${env.registry.url}/v2/copies/bb/tags/list`);
  expect(await res.json()).toMatchObject({ tags: ['v2'] });
  const rmi = await hyprOk(d, ['rmi', target]);
  expect(rmi).toContain(`Untagged: ${target}`);
  expect(await hyprOk(d, ['pull', '-q', target])).toBe(`${target}\n`);
});

test('save and load round-trip through a file', async () => {
  const file = join(env.dir, 'bb.tar');
  await hyprOk(d, ['save', '-o', file, env.image]);
  expect(existsSync(file)).toBe(true);
  await hyprOk(d, ['rmi', '-f', env.image]);
  await hyprOk(d, ['rmi', '-f', `${env.registry.host}/copies/bb:v2`]);
  expect(await hyprOk(d, ['images', '-q'])).toBe('');
  expect(await hyprOk(d, ['load', '-i', file])).toBe(`Loaded image: ${env.image}\n`);
  expect(await hyprOk(d, ['run', '--rm', env.image, 'echo', 'loaded'])).toBe('loaded\n');
});

test('rmi refuses an image a container uses; inspect shows an image', async () => {
  await hyprOk(d, ['create', '--name', 'user', env.image, 'true']);
  const r = await hypr(d, ['rmi', env.image]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/used by container/);
  const [img] = JSON.parse(await hyprOk(d, ['inspect', '--type', 'image', env.image]));
  expect(img).toMatchObject({ Id: expect.stringMatching(/^sha256:/), RepoTags: [env.image], Os: 'linux' });
  await hyprOk(d, ['rm', 'user']);
});

test('login stores credentials that pull and push then use; logout forgets them', async () => {
  const ref = `${secure.host}/private/bb:1`;
  await hyprOk(d, ['tag', env.image, ref]);
  const denied = await hypr(d, ['push', ref]);
  expect(denied.code).not.toBe(0);
  const wrong = await hypr(d, ['login', '-u', 'alice', '--password-stdin', secure.host], { input: 'nope\n' });
  expect(wrong.code).toBe(1);
  expect(wrong.stderr).toMatch(/unauthorized/);
  const ok = await hypr(d, ['login', '-u', 'alice', '--password-stdin', secure.host], { input: 's3cret\n' });
  expect(ok, ok.stderr).toMatchObject({ code: 0, stdout: 'Login Succeeded\n' });
  await hyprOk(d, ['push', '-q', ref]);
  expect(await hyprOk(d, ['logout', secure.host])).toBe(`Removing login credentials for ${secure.host}\n`);
});

test('system info names the hypervisor, accelerator and why, guest versions and paths', async () => {
  const out = await hyprOk(d, ['system', 'info']);
  expect(out).toMatch(/Hypervisor: qemu/);
  expect(out).toMatch(/Accelerator: (kvm|tcg) \(.+\)/);
  expect(out).toMatch(/Guest Kernel: \d+\.\d+/);
  expect(out).toContain(`HYPR Root Dir: ${d.home}`);
  const json = JSON.parse(await hyprOk(d, ['system', 'info', '--json']));
  expect(json).toMatchObject({ Runtime: 'shim', Socket: d.host });
  expect(await hyprOk(d, ['version'])).toMatch(/Client:[\s\S]*Server: hyprd/);
});

test('system prune -f removes stopped containers, then -a unused images', async () => {
  await hyprOk(d, ['run', '--name', 'done', env.image, 'true']);
  const out = await hyprOk(d, ['system', 'prune', '-f', '-a']);
  expect(out).toContain('Deleted Containers:');
  expect(out).toContain('Deleted Images:');
  expect(await hyprOk(d, ['ps', '-a', '-q'])).toBe('');
  expect(await hyprOk(d, ['images', '-q'])).toBe('');
});
