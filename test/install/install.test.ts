// HYPR installed as users install it: packed tarballs, npm, the checkout hidden (test/install/installed.sh).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, test } from 'vitest';

test(
  'the packed packages install outside the checkout and run VMs, containers, builds and stacks',
  () => {
    const r = spawnSync('bash', [join(import.meta.dirname, 'installed.sh')], {
      encoding: 'utf8',
      timeout: 15 * 60_000,
      env: { ...process.env, CI: process.env.CI ?? '' },
    });
    const out = `${r.stdout}${r.stderr}`;
    expect(out, out).not.toContain('FAIL:');
    expect(r.status, out).toBe(0);
    expect(out).toContain('ok: @hypr/cli installs without a native module');
    expect(out).toContain('ok: the installed hyprd + hypr run a container');
    expect(out).toContain('ok: the installed hypr runs a compose stack up and down');
  },
  16 * 60_000,
);
