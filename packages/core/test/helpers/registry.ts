// Test helper: a real Distribution registry (Debian's docker-registry) on 127.0.0.1, on a free
// port, with a temp storage dir, optionally behind htpasswd basic auth. Shared by the image,
// daemon and e2e tests.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Child, runCommand, spawnChild } from '../../src/process.js';

export interface TestRegistry {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `127.0.0.1:PORT`, the registry part of image references. */
  host: string;
  storageDir: string;
  username?: string;
  password?: string;
  stop(): Promise<void>;
}

export interface StartRegistryOptions {
  /** Put the registry behind htpasswd basic auth with these credentials. */
  auth?: { username: string; password: string };
  binary?: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function startRegistry(opts: StartRegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'hypr-registry-'));
  const storageDir = join(dir, 'storage');
  const port = await freePort();
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storageDir}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: hypr-test-secret',
  ];
  if (opts.auth) {
    const { stdout } = await runCommand('htpasswd', ['-Bbn', opts.auth.username, opts.auth.password], {
      packageHint: 'apache2-utils',
    });
    await writeFile(join(dir, 'htpasswd'), stdout);
    lines.push('auth:', '  htpasswd:', '    realm: hypr-test', `    path: ${join(dir, 'htpasswd')}`);
  }
  await writeFile(join(dir, 'config.yml'), `${lines.join('\n')}\n`);
  const child: Child = spawnChild(opts.binary ?? 'docker-registry', ['serve', join(dir, 'config.yml')], {
    killAfterMs: 2000,
    packageHint: 'docker-registry',
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/v2/`);
      await res.body?.cancel();
      if (res.status === 200 || res.status === 401) break;
    } catch {
      /* not listening yet */
    }
    const exited = await Promise.race([
      child.exited.then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 50)),
    ]);
    if (exited || Date.now() > deadline) {
      await child.stop();
      throw new Error(`docker-registry did not start on ${url}: ${child.stderrTail()}`);
    }
  }
  return {
    url,
    host: `127.0.0.1:${port}`,
    storageDir,
    username: opts.auth?.username,
    password: opts.auth?.password,
    async stop() {
      await child.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
