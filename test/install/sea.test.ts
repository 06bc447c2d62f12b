// The single executables of scripts/build-sea.sh run HYPR with no node and no checkout (test/install/sea.sh).
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { runScript } from './run-script.js';

test(
  'the single-executable hypr and hyprd, copied alone, run a container with no node and the checkout hidden',
  async () => {
    const { status, out } = await runScript(join(import.meta.dirname, 'sea.sh'), 12 * 60_000);
    expect(out, out).not.toContain('FAIL:');
    expect(status, out).toBe(0);
    expect(out).toContain('ok: hyprd --print-service systemd starts the single executable itself');
    expect(out).toContain('ok: the single-executable hyprd + hypr run a container with no node and no checkout');
    expect(out).toContain('ok: the exit status comes back');
    expect(out).toContain('ok: the container ran under the hypr-shim the single executable carries');
  },
  13 * 60_000,
);
