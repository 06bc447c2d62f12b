// HYPR installed as users install it: packed tarballs, npm, the checkout hidden (test/install/installed.sh).
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { runScript } from './run-script.js';

test(
  'the packed packages install outside the checkout and run VMs, containers, builds and stacks',
  async () => {
    const { status, out } = await runScript(join(import.meta.dirname, 'installed.sh'), 15 * 60_000);
    expect(out, out).not.toContain('FAIL:');
    expect(status, out).toBe(0);
    expect(out).toContain('ok: @hypr/cli installs without a native module');
    expect(out).toContain('ok: @hypr/api ships the');
    expect(out).toContain('ok: @hypr/cli ships its bundle');
    expect(out).toMatch(/ok: @hypr\/guest-linux-\w+ ships hypr-shim/);
    expect(out).toContain('ok: the installed hyprd prints a systemd unit with its installed paths');
    expect(out).toContain('ok: the installed hyprd + hypr run a container');
    expect(out).toContain('ok: the installed hypr builds an image');
    expect(out).toContain('ok: the installed hypr runs a compose stack up and down');
  },
  16 * 60_000,
);
