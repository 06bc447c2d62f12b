import { homedir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { defaultSocketPath, parseHost, resolveSocketPath } from './client.js';

test('HYPR_HOST takes unix:///path, unix:path or a path; other schemes are refused', () => {
  expect(parseHost('unix:///run/x.sock')).toBe('/run/x.sock');
  expect(parseHost('unix:/run/x.sock')).toBe('/run/x.sock');
  expect(parseHost('/run/x.sock')).toBe('/run/x.sock');
  expect(() => parseHost('tcp://127.0.0.1:2375')).toThrow(/only unix/);
  expect(resolveSocketPath({ env: { HYPR_HOST: 'unix:///a.sock' } })).toBe('/a.sock');
  expect(resolveSocketPath({ host: 'unix:///b.sock', env: { HYPR_HOST: 'unix:///a.sock' } })).toBe('/b.sock');
});

// The same places as core's resolvePaths (paths.ts), which hyprd uses.
test.each([
  [{}, true, '/run/hypr/hyprd.sock'],
  [{ XDG_RUNTIME_DIR: '/run/user/1000' }, false, '/run/user/1000/hypr/hyprd.sock'],
  [{ HYPR_HOME: '/srv/hypr' }, false, '/srv/hypr/hypr/hyprd.sock'],
  [{ XDG_DATA_HOME: '/home/u/data' }, false, '/home/u/data/hypr/hypr/hyprd.sock'],
  [{}, false, join(homedir(), '.local/share/hypr/hypr/hyprd.sock')],
])('the default socket for %j (root: %s) is %s', (env, isRoot, socket) => {
  expect(defaultSocketPath(env, isRoot)).toBe(socket);
});
