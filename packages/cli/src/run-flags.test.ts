import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { toContainerSpec } from './run-flags.js';

// `docker run` flags to the spec sent to hyprd, per docker's reference.
describe('run flags become the container spec', () => {
  test('image, command and arguments come after the flags', () => {
    const { spec, name } = toContainerSpec({ name: 'web' }, ['busybox', 'sh', '-c', 'echo hi']);
    expect(spec).toMatchObject({ image: 'busybox', command: ['sh', '-c', 'echo hi'], autoRemove: false });
    expect(name).toBe('web');
  });

  test('-e, --env-file, -l and --label-file, in docker order (files first, flags override)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hypr-flags-'));
    try {
      writeFileSync(join(dir, 'env'), '# comment\nA=from-file\nB=2\n');
      writeFileSync(join(dir, 'labels'), 'team=core\n');
      const { spec } = toContainerSpec(
        {
          env: ['A=from-flag'],
          'env-file': [join(dir, 'env')],
          label: ['tier=web'],
          'label-file': [join(dir, 'labels')],
        },
        ['img'],
      );
      expect(spec.env).toEqual(['A=from-file', 'B=2', 'A=from-flag']);
      expect(spec.labels).toEqual({ team: 'core', tier: 'web' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('-m, --cpus, --restart, --rm, -i, -t, --entrypoint, -w, -u, -h, -p, -v', () => {
    const { spec } = toContainerSpec(
      {
        memory: '512m',
        cpus: '1.5',
        restart: 'on-failure:3',
        interactive: true,
        tty: true,
        entrypoint: '/bin/sh',
        workdir: '/srv',
        user: '1000:1000',
        hostname: 'box',
        publish: ['8080:80'],
        volume: ['/data:/data:ro'],
        'stop-signal': 'SIGINT',
        'stop-timeout': 3,
      },
      ['img'],
    );
    expect(spec).toMatchObject({
      memoryBytes: 512n * 1024n * 1024n,
      cpus: 1.5,
      restartPolicy: { name: 'on-failure', maximumRetryCount: 3 },
      openStdin: true,
      tty: true,
      entrypoint: '/bin/sh',
      workdir: '/srv',
      user: '1000:1000',
      hostname: 'box',
      ports: ['8080:80'],
      volumes: ['/data:/data:ro'],
      stopSignal: 'SIGINT',
      stopTimeoutSeconds: 3,
    });
  });

  test('--health-* make a CMD-SHELL health check with Go durations', () => {
    const { spec } = toContainerSpec(
      { 'health-cmd': 'true', 'health-interval': '5s', 'health-timeout': '1s', 'health-retries': 2 },
      ['img'],
    );
    expect(spec.healthcheck).toMatchObject({
      test: ['CMD-SHELL', 'true'],
      intervalMs: 5000n,
      timeoutMs: 1000n,
      retries: 2,
    });
  });

  test.each([
    [{ rm: true, restart: 'always' }, /Conflicting options: --restart and --rm/],
    [{ memory: '4m' }, /Minimum memory limit/],
    [{ memory: 'lots' }, /invalid size/],
    [{ restart: 'sometimes' }, /invalid restart policy/],
    [{ cpus: 'x' }, /invalid argument "x" for "--cpus"/],
    [{ 'health-cmd': 'true', 'health-interval': '5' }, /invalid argument "5" for "--health-interval"/],
  ])('%j is refused with exit status 125', (flags, message) => {
    let err: (Error & { exitCode?: number }) | undefined;
    try {
      toContainerSpec(flags, ['img']);
    } catch (e) {
      err = e as Error & { exitCode?: number };
    }
    expect(err?.message).toMatch(message);
    expect(err?.exitCode).toBe(125);
  });

  test('an image is required', () => {
    expect(() => toContainerSpec({}, [])).toThrow('"hypr run" requires at least 1 argument.');
  });
});
