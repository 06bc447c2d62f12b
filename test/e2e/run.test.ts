import { afterAll, beforeAll, expect, test } from 'vitest';
import { type Daemon, type E2eEnv, hypr, hyprOk, startDaemon, startE2eEnv } from './helpers.js';

let env: E2eEnv;
let d: Daemon;
beforeAll(async () => {
  env = await startE2eEnv();
  d = await startDaemon({ dir: env.dir });
});
afterAll(async () => {
  await d?.stop();
  await env?.cleanup();
});

test('run --rm prints the output and exits with the container exit code', async () => {
  const r = await hypr(d, ['run', '--rm', env.image, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  expect(r, r.stderr).toMatchObject({ code: 3, stdout: 'out\n' });
  expect(r.stderr).toContain('err\n');
  expect(await hyprOk(d, ['ps', '-a', '-q'])).toBe('');
});
