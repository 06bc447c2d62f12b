/**
 * Kestrel's side of the transport (guest/channel.c), compiled for this machine and run: the kernel
 * command line word that selects vsock, and each channel's vsock port — which must be the ports
 * the host gives its channels (channels.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, test } from 'vitest';
import { openGuestChannels } from './channels.js';

const guest = resolve(import.meta.dirname, '../../../../guest');

test('guest/channel.c: transport choice and port map (guest/test/channel-test.c)', () => {
  const out = join(guest, 'out/channel-test');
  execFileSync('make', ['-s', '-C', guest, 'out/channel-test'], { stdio: 'pipe' });
  expect(execFileSync(out, { encoding: 'utf8' })).toMatch(/^ok: 0 failure/m);
}, 60_000);

test("the host's channel ports are the ones Kestrel connects to", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hypr-ch-'));
  try {
    const set = await openGuestChannels(dir, {
      onControl: () => {},
      onStdout: () => {},
      onStderr: () => {},
      onExec: () => {},
      stdin: true,
    });
    expect(set.specs.map((s) => [s.name, s.vsockPort])).toEqual([
      ['hypr.control', 1024],
      ['hypr.stdout', 1025],
      ['hypr.stderr', 1026],
      ['hypr.exec', 1027],
      ['hypr.stdin', 1028],
    ]);
    set.destroy();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
