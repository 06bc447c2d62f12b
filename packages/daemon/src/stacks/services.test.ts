import type { StackService, StackSpec } from '@hypr/core/compose';
import { describe, expect, test } from 'vitest';
import { selectServices, serviceConfigHash, withScale } from './services.js';

const svc = (name: string, deps: string[] = [], extra: Partial<StackService> = {}): StackService =>
  ({
    name,
    image: 'busybox',
    env: { A: '1' },
    replicas: 1,
    dependsOn: deps.map((service) => ({ service, condition: 'service_started', required: true, restart: false })),
    ...extra,
  }) as unknown as StackService;

const spec: StackSpec = {
  name: 'p',
  services: { db: svc('db'), app: svc('app', ['db']), web: svc('web', ['app']), tool: svc('tool') },
  startOrder: [['db', 'tool'], ['app'], ['web']],
  networks: {},
  volumes: {},
  warnings: [],
};

describe('selectServices', () => {
  test('a named service brings what it depends on, unless --no-deps', () => {
    expect([...selectServices(spec, ['web'])].sort()).toEqual(['app', 'db', 'web']);
    expect([...selectServices(spec, ['web'], true)]).toEqual(['web']);
    expect([...selectServices(spec, [])].sort()).toEqual(['app', 'db', 'tool', 'web']);
  });

  test('an unknown service is an error naming the known ones', () => {
    expect(() => selectServices(spec, ['nope'])).toThrow(/no such service: nope/);
  });
});

describe('serviceConfigHash', () => {
  test('is the hash containers already carry in their labels (a change would recreate every stack once)', () => {
    const svc = {
      name: 'web',
      image: 'nginx',
      env: { B: '2', A: '1' },
      command: ['sh', undefined],
      replicas: 3,
      dependsOn: [],
      healthcheck: null,
      ports: [{ containerPort: 80, protocol: 'tcp', hostPort: undefined }],
      labels: { é: 'x', Z: 'y', a: 'z' },
    } as unknown as StackService;
    expect(serviceConfigHash(svc, 'sha256:abc')).toBe(
      '2ed9cd02156d3d360c7abe586b99f69bbed4d5bc6b93b9a4094cee121b03088b',
    );
    expect(serviceConfigHash(svc, undefined)).toBe('da1874f6ae6f6423b906f77a858e8022f346f752f9e0d52bb60f17a0ec88c315');
  });

  test('ignores replicas, key order and depends_on; follows config and image changes', () => {
    const base = serviceConfigHash(svc('a'), 'sha256:1');
    expect(serviceConfigHash(svc('a', ['b'], { replicas: 3 }), 'sha256:1')).toBe(base);
    expect(serviceConfigHash({ ...svc('a'), env: { A: '1' } } as StackService, 'sha256:1')).toBe(base);
    expect(serviceConfigHash(svc('a', [], { env: { A: '2' } }), 'sha256:1')).not.toBe(base);
    expect(serviceConfigHash(svc('a'), 'sha256:2')).not.toBe(base);
  });
});

test('--scale replaces the replicas of the named services only', () => {
  const scaled = withScale(spec, { web: 3, tool: 0 });
  expect(scaled.services.web.replicas).toBe(3);
  expect(scaled.services.tool.replicas).toBe(0);
  expect(scaled.services.db.replicas).toBe(1);
  expect(spec.services.web.replicas).toBe(1);
  expect(() => withScale(spec, { nope: 2 })).toThrow(/no such service: nope/);
  expect(() => withScale(spec, { web: -1 })).toThrow(/invalid --scale web=-1/);
});
