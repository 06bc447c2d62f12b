import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { HyprError } from './errors.js';
import { guestPackageName, resolveGuestDir, verifyGuest } from './paths.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fakeGuestPackage(files: Record<string, string>, manifestFiles: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'hypr-guest-'));
  dirs.push(dir);
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  const entries = Object.fromEntries(
    Object.entries(manifestFiles).map(([n, body]) => [n, { sha256: sha(body), sizeBytes: body.length }]),
  );
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ schemaVersion: 1, files: entries }));
  return dir;
}

describe('the guest package', () => {
  test('is named per platform, as esbuild names its binaries', () => {
    expect(guestPackageName('linux', 'x64')).toBe('@hypr/guest-linux-x64');
    expect(guestPackageName('linux', 'arm64')).toBe('@hypr/guest-linux-arm64');
  });

  test('files that match the manifest pass', () => {
    const dir = fakeGuestPackage({ vmlinux: 'K', kestrel: 'P' }, { vmlinux: 'K', kestrel: 'P' });
    expect(() => verifyGuest(dir, join(dir, 'manifest.json'), '@hypr/guest-linux-x64')).not.toThrow();
  });

  test('a corrupt kernel is a clear error naming the package to reinstall', () => {
    const dir = fakeGuestPackage({ vmlinux: 'truncated', kestrel: 'P' }, { vmlinux: 'K', kestrel: 'P' });
    let err: unknown;
    try {
      verifyGuest(dir, join(dir, 'manifest.json'), '@hypr/guest-linux-x64');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HyprError);
    expect((err as HyprError).code).toBe('GUEST_CORRUPT');
    expect((err as HyprError).message).toContain('vmlinux');
    expect((err as HyprError).hint).toContain('npm i @hypr/guest-linux-x64');
  });

  test('a missing file is GUEST_CORRUPT too', () => {
    const dir = fakeGuestPackage({ vmlinux: 'K' }, { vmlinux: 'K', kestrel: 'P' });
    expect(() => verifyGuest(dir, join(dir, 'manifest.json'), '@hypr/guest-linux-x64')).toThrow(/has no kestrel/);
  });

  test('HYPR_GUEST_DIR wins over everything', () => {
    expect(resolveGuestDir({ HYPR_GUEST_DIR: '/opt/guest' })).toBe('/opt/guest');
  });
});
