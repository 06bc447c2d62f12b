import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { DEFAULT_CONFIG, loadDaemonConfig } from './config.js';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'hypr-config-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("daemon.json: docker's keys that apply, errors with the key path, the first file found wins", () => {
  withDir((dir) => {
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    expect(loadDaemonConfig([a, b])).toEqual({ config: DEFAULT_CONFIG });
    writeFileSync(b, JSON.stringify({ 'insecure-registries': ['reg:5000'], 'log-driver': 'journald' }));
    expect(loadDaemonConfig([a, b]).config['insecure-registries']).toEqual(['reg:5000']);
    writeFileSync(a, JSON.stringify({ 'default-memory-mib': -1 }));
    expect(() => loadDaemonConfig([a, b])).toThrow(
      expect.objectContaining({ path: 'default-memory-mib', file: a, message: 'must be a positive number' }),
    );
    writeFileSync(a, '{nope');
    expect(() => loadDaemonConfig([a, b])).toThrow(/not valid JSON/);
  });
});

test('daemon.json: the networking keys are part of the one schema', () => {
  withDir((dir) => {
    const f = join(dir, 'daemon.json');
    const pools = [{ base: '10.210.0.0/16', size: 24 }];
    writeFileSync(f, JSON.stringify({ bridge: 'none', bip: '10.200.0.1/24', 'default-address-pools': pools }));
    expect(loadDaemonConfig([f]).config).toMatchObject({
      bridge: 'none',
      bip: '10.200.0.1/24',
      'default-address-pools': pools,
    });
    writeFileSync(f, JSON.stringify({ bip: '10.200.0.1' }));
    expect(() => loadDaemonConfig([f])).toThrow(expect.objectContaining({ path: 'bip', file: f }));
    writeFileSync(f, JSON.stringify({ 'default-address-pools': [{ base: '10.0.0.0/8', size: 'x' }] }));
    expect(() => loadDaemonConfig([f])).toThrow(
      expect.objectContaining({
        path: 'default-address-pools[0].size',
        message: 'must be a list of {"base": CIDR, "size": PREFIX}',
      }),
    );
    writeFileSync(f, JSON.stringify({ bridge: 7 }));
    expect(() => loadDaemonConfig([f])).toThrow(
      expect.objectContaining({ path: 'bridge', message: 'must be a string' }),
    );
    writeFileSync(f, '[]');
    expect(() => loadDaemonConfig([f])).toThrow(
      expect.objectContaining({ path: '.', message: 'must be a JSON object' }),
    );
  });
});

test('daemon.json: a directory in its place is named, not skipped', () => {
  withDir((dir) => {
    const f = join(dir, 'daemon.json');
    mkdirSync(f);
    expect(() => loadDaemonConfig([f])).toThrow(
      expect.objectContaining({ file: f, message: 'is a directory, not a JSON file' }),
    );
  });
});
