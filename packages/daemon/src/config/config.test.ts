import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { DEFAULT_CONFIG, loadDaemonConfig } from './config.js';

test("daemon.json: docker's keys that apply, errors with the key path, the first file found wins", () => {
  const dir = mkdtempSync(join(tmpdir(), 'hypr-config-'));
  try {
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
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
