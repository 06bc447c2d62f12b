/**
 * `hypr run --rm`: the container's writable layer is ephemeral (never flushed, docs/vm.md), but
 * what the program wrote to a bind mount is whole on the host as soon as `hypr run --rm` returns.
 */
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { buildMmapWriter, mmapWriterContent } from '../../packages/core/test/helpers/mmap-writer.js';
import { type Daemon, type E2eEnv, hypr, hyprOk, startDaemon, startE2eEnv } from './helpers.js';

// VMs boot under TCG on a shared machine: allow for a slow, loaded host.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

let env: E2eEnv & { refs: string[] };
let d: Daemon;
let host: string;
beforeAll(async () => {
  env = await startE2eEnv();
  d = await startDaemon({ dir: env.dir });
  host = await mkdtemp(join(tmpdir(), 'hypr-rm-vol-'));
  await mkdir(join(host, 'bin'));
  await buildMmapWriter(join(host, 'bin'));
  await hyprOk(d, ['pull', '-q', env.image]);
});
afterAll(async () => {
  await d?.shutdown();
  await env?.cleanup();
  if (host) await rm(host, { recursive: true, force: true });
});

test('a --rm container leaves what it wrote to a bind mount whole on the host when run returns', async () => {
  const size = 2 * 1024 * 1024 + 3;
  const script = [
    'echo scratch > /in-the-layer',
    // written through a shared mapping, never msync'd: the guest's page cache holds it
    `/data/bin/mmap-writer /data/mapped ${size}`,
    // 40 × 64 KiB with plain writes, no fsync
    'dd if=/dev/zero of=/data/plain bs=65536 count=40 2>/dev/null',
    'echo done',
  ].join(' && ');
  const r = await hypr(d, ['run', '--rm', '-v', `${host}:/data`, env.image, 'sh', '-c', script]);
  expect(r).toMatchObject({ code: 0, stdout: 'done\n' });
  expect((await readFile(join(host, 'mapped'))).equals(mmapWriterContent(size))).toBe(true);
  expect((await stat(join(host, 'plain'))).size).toBe(40 * 65536);
  expect(await hyprOk(d, ['ps', '-a', '-q'])).toBe('');
});
