import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigKeyError } from '@hypr/core/errors';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parseBundleConfig, parseProcess } from './bundle.js';

/** A config.json as Podman writes it (trimmed): what hypr-runtime must take. */
function podmanConfig(bundle: string) {
  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: false,
      user: { uid: 1000, gid: 100 },
      args: ['sh', '-c', 'uname -r; exit 3'],
      env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'TERM=xterm', 'container=podman', 'HOSTNAME=abc'],
      cwd: '/srv',
      capabilities: { bounding: ['CAP_CHOWN'] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1048576, soft: 1048576 }],
    },
    root: { path: join(bundle, 'rootfs') },
    hostname: 'abc',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'ro'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'newinstance'] },
      { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=755', 'size=65536k'] },
      { destination: '/etc/resolv.conf', type: 'bind', source: join(bundle, 'resolv.conf'), options: ['bind', 'ro'] },
      { destination: '/etc/hosts', type: 'bind', source: join(bundle, 'hosts'), options: ['bind'] },
      { destination: '/data', type: 'bind', source: join(bundle, 'data'), options: ['rbind', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro'] },
      { destination: '/mnt/nfs', type: 'nfs', source: 'server:/x', options: [] },
    ],
    linux: {
      resources: { memory: { limit: 268435456 }, cpu: { quota: 150000, period: 100000 } },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'mount' }],
    },
    annotations: { 'io.podman.annotations.autoremove': 'TRUE' },
  };
}

function bundleDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hypr-bundle-'));
  mkdirSync(join(dir, 'rootfs'));
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'resolv.conf'), 'search example\nnameserver 10.0.2.3\nnameserver 1.1.1.1\n');
  writeFileSync(
    join(dir, 'hosts'),
    '127.0.0.1 localhost\n::1 localhost ip6-localhost\n# podman\n10.88.0.5 db db.local\n10.88.0.1 host.containers.internal\n',
  );
  return dir;
}

describe('config.json', () => {
  test("podman's config becomes the VM's program, root, mounts and size", () => {
    const dir = bundleDir();
    const spec = parseBundleConfig(JSON.stringify(podmanConfig(dir)), dir);
    expect(spec.rootfs).toBe(join(dir, 'rootfs'));
    expect(spec.process).toEqual({
      argv: ['sh', '-c', 'uname -r; exit 3'],
      env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'TERM=xterm', 'container=podman', 'HOSTNAME=abc'],
      cwd: '/srv',
      user: '1000:100',
      terminal: false,
    });
    expect(spec.hostname).toBe('abc');
    // /proc, /sys and /dev (and what is under them) are the guest's own; a directory bind is shared.
    expect(spec.mounts).toEqual([
      { type: 'tmpfs', target: '/run', options: 'mode=755,size=65536k' },
      { type: 'share', hostPath: join(dir, 'data'), target: '/data', readOnly: true },
    ]);
    expect(spec.dns).toEqual(['10.0.2.3', '1.1.1.1']);
    expect(spec.hosts).toEqual([
      { name: 'db', address: '10.88.0.5' },
      { name: 'db.local', address: '10.88.0.5' },
      { name: 'host.containers.internal', address: '10.88.0.1' },
    ]);
    expect(spec.skipped).toEqual([
      `/etc/resolv.conf: only directories can be shared into a VM (${join(dir, 'resolv.conf')})`,
      `/etc/hosts: only directories can be shared into a VM (${join(dir, 'hosts')})`,
      '/mnt/nfs: mount type nfs is not supported in a VM',
    ]);
    expect(spec.memoryMiB).toBe(256);
    expect(spec.cpus).toBe(2);
    // A network namespace without a path is one of the VM's own: no interfaces to take over.
    expect(spec.netnsPath).toBeUndefined();
    expect(spec.annotations).toEqual({ 'io.podman.annotations.autoremove': 'TRUE' });
  });

  test("containerd's relative root path is taken from the bundle; no limits mean HYPR's defaults", () => {
    const dir = bundleDir();
    const config = { process: { args: ['uname', '-r'], cwd: '/' }, root: { path: 'rootfs', readonly: true } };
    const spec = parseBundleConfig(JSON.stringify(config), dir);
    expect(spec.rootfs).toBe(join(dir, 'rootfs'));
    expect(spec.readonly).toBe(true);
    expect(spec.process.user).toBe('0:0');
    expect(spec.memoryMiB).toBeUndefined();
    expect(spec.cpus).toBeUndefined();
  });

  test("the engine's network namespace is the path of the network entry", () => {
    const dir = bundleDir();
    const namespaces = [{ type: 'pid' }, { type: 'network', path: '/run/netns/cni-1234' }];
    const config = { process: { args: ['true'] }, root: { path: 'rootfs' }, linux: { namespaces } };
    expect(parseBundleConfig(JSON.stringify(config), dir).netnsPath).toBe('/run/netns/cni-1234');
  });

  test('a cpuset sizes the VM when there is no quota', () => {
    const dir = bundleDir();
    const config = {
      process: { args: ['true'] },
      root: { path: 'rootfs' },
      linux: { resources: { cpu: { cpus: '0-2,5' }, memory: { limit: -1 } } },
    };
    const spec = parseBundleConfig(JSON.stringify(config), dir);
    expect(spec.cpus).toBe(4);
    expect(spec.memoryMiB).toBeUndefined();
  });

  test.each([
    [{ process: { args: ['true'] } }, 'root', 'is not an object'],
    [{ root: { path: 'rootfs' } }, 'process', 'is missing'],
    [{ root: { path: 'rootfs' }, process: { args: [] } }, 'process.args', 'is empty'],
    [{ root: { path: 'rootfs' }, process: { args: ['true'], cwd: 'srv' } }, 'process.cwd', 'not an absolute path'],
    [{ root: { path: 'rootfs' }, process: { args: ['true'], user: { uid: -1 } } }, 'process.user.uid', 'whole number'],
    [{ root: { path: 'rootfs' }, process: { args: ['true'], env: 'A=1' } }, 'process.env', 'list of strings'],
    [
      { root: { path: 'rootfs' }, process: { args: ['true'] }, mounts: [{ destination: 'x' }] },
      'mounts[0].destination',
      'absolute',
    ],
  ])('a bad config names its key: %j', (config, path, message) => {
    const dir = bundleDir();
    let error: unknown;
    try {
      parseBundleConfig(JSON.stringify(config), dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigKeyError);
    const e = error as ConfigKeyError;
    expect(e.path).toBe(path);
    expect(e.file).toBe(join(dir, 'config.json'));
    expect(e.message).toContain(message);
    expect(e.format()).toContain(`config.json ${path}:`);
  });

  test('text that is not JSON fails with the file named', () => {
    expect(() => parseBundleConfig('{', '/b')).toThrow(/not JSON/);
  });

  test('any JSON value parses or fails with a key path', () =>
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        try {
          parseBundleConfig(JSON.stringify(v), '/b');
        } catch (e) {
          expect(e).toBeInstanceOf(ConfigKeyError);
        }
      }),
    ));
});

describe('process.json of runc exec --process', () => {
  test('is a process object at the top level', () => {
    const p = parseProcess({ args: ['echo', 'inside'], env: ['A=1'], cwd: '/', user: { uid: 0, gid: 0 } }, 'p.json');
    expect(p).toEqual({ argv: ['echo', 'inside'], env: ['A=1'], cwd: '/', user: '0:0', terminal: false });
  });

  test('errors name the key without a prefix', () => {
    expect(() => parseProcess({ args: 'echo' }, 'p.json')).toThrow(expect.objectContaining({ path: 'args' }));
  });
});
