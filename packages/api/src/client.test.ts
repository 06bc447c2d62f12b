import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, ConnectError } from '@connectrpc/connect';
import { expect, test } from 'vitest';
import {
  createHyprClient,
  daemonConnectionProblem,
  defaultSocketPath,
  parseHost,
  resolveSocketPath,
} from './client.js';

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

/** The error of one call to a socket at `path` (nothing there, a dead socket, a plain file …). */
async function callError(path: string): Promise<unknown> {
  try {
    await createHyprClient({ host: `unix://${path}` }).system.info({});
  } catch (e) {
    return e;
  }
  throw new Error('the call succeeded');
}

test('a socket with no daemon is "not running", decided from the connect error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hypr-api-'));
  try {
    expect(daemonConnectionProblem(await callError(join(dir, 'none.sock')))).toBe('not-running');
    // a path that is no socket (as a stale file left behind): ECONNREFUSED
    writeFileSync(join(dir, 'plain'), '');
    expect(daemonConnectionProblem(await callError(join(dir, 'plain')))).toBe('not-running');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("permission denied on the socket is its own problem; the daemon's own errors are none", () => {
  const denied = Object.assign(new Error('connect EACCES /run/hypr/hyprd.sock'), {
    code: 'EACCES',
    syscall: 'connect',
    address: '/run/hypr/hyprd.sock',
  });
  expect(
    daemonConnectionProblem(new ConnectError(denied.message, Code.Unavailable, undefined, undefined, denied)),
  ).toBe('permission-denied');
  // hyprd answered with an error whose text mentions ENOENT (a missing archive, a registry): not a connection problem
  const answered = new ConnectError("ENOENT: no such file or directory, open '/missing.tar'", Code.Unknown);
  expect(daemonConnectionProblem(answered)).toBeUndefined();
  expect(daemonConnectionProblem(new ConnectError('registry: ECONNREFUSED 127.0.0.1:5000', Code.Unavailable))).toBe(
    undefined,
  );
  const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', syscall: 'read' });
  expect(daemonConnectionProblem(new ConnectError('reset', Code.Unavailable, undefined, undefined, reset))).toBe(
    'connection-lost',
  );
});
