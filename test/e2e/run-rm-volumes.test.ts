/**
 * `hypr run --rm`: the container's writable layer is a tmpfs in the guest (no disk, docs/vm.md), but
 * what the program wrote to a bind mount is whole on the host as soon as `hypr run --rm` returns, and
 * the layer of a running one is still there for diff, commit and export.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { buildMmapWriter, mmapWriterContent } from '../../packages/core/test/helpers/mmap-writer.js';
import { type Daemon, type E2eEnv, hypr, hyprOk, startDaemon, startE2eEnv, waitFor } from './helpers.js';

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

test('a running --rm container has no writable disk, yet diff, commit and export see its changes', async () => {
  const script = 'echo new > /added && rm /etc/group && mkdir /made && echo x > /made/f && sleep 600';
  const id = (await hyprOk(d, ['run', '-d', '--rm', '--name', 'eph', env.image, 'sh', '-c', script])).trim();
  try {
    expect(existsSync(join(d.home, 'containers', id.slice(0, 12), 'rw.ext4'))).toBe(false);
    await waitFor(async () => (await hypr(d, ['diff', 'eph'])).stdout.includes('A /made/f'), 120_000, 'the changes');
    const diff = (await hyprOk(d, ['diff', 'eph'])).split('\n');
    expect(diff).toEqual(expect.arrayContaining(['A /added', 'C /etc', 'D /etc/group', 'A /made', 'A /made/f']));
    expect(diff.join('\n')).not.toContain('/etc/hostname');

    await hyprOk(d, ['commit', 'eph', 'e2e/eph:1']);
    const seen = await hyprOk(d, [
      'run',
      '--rm',
      'e2e/eph:1',
      'sh',
      '-c',
      'cat /added /made/f; test -e /etc/group && echo group || echo no-group',
    ]);
    expect(seen.trim().split('\n')).toEqual(['new', 'x', 'no-group']);

    const tar = join(host, 'eph.tar');
    await hyprOk(d, ['export', '-o', tar, 'eph']);
    const names = execFileSync('tar', ['-tf', tar]).toString().split('\n');
    expect(names).toEqual(expect.arrayContaining(['added', 'made/f']));
    expect(names).not.toContain('etc/group');
  } finally {
    await hypr(d, ['rm', '-f', 'eph']);
  }
});
