import { describe, expect, test } from 'vitest';
import { mergeService } from './merge.js';
import type { LayerService } from './normalize.js';

describe('compose merge rules', () => {
  const base: LayerService = {
    image: 'a',
    command: ['one', 'two'],
    environment: { A: '1', B: '2' },
    ports: [{ mode: 'ingress', target: 80, published: '8080', protocol: 'tcp' }],
    volumes: [{ type: 'volume', source: 'x', target: '/data' }],
    dns: ['1.1.1.1'],
  };

  test('scalars and commands are replaced, mappings merged, lists merged by key', () => {
    const merged = mergeService(
      base,
      {
        image: 'b',
        command: ['three'],
        environment: { B: 'two', C: '3' },
        ports: [
          { mode: 'ingress', target: 80, published: '8080', protocol: 'tcp', name: 'http' },
          { mode: 'ingress', target: 443, protocol: 'tcp' },
        ],
        volumes: [{ type: 'bind', source: '/h', target: '/data' }],
        dns: ['1.1.1.1', '8.8.8.8'],
      },
      'svc',
    );
    expect(merged).toEqual({
      image: 'b',
      command: ['three'],
      environment: { A: '1', B: 'two', C: '3' },
      ports: [
        { mode: 'ingress', target: 80, published: '8080', protocol: 'tcp', name: 'http' },
        { mode: 'ingress', target: 443, protocol: 'tcp' },
      ],
      volumes: [{ type: 'bind', source: '/h', target: '/data' }],
      dns: ['1.1.1.1', '8.8.8.8'],
    });
  });

  test('!reset removes a key and !override replaces it whole', () => {
    const tags = new Map([
      ['services.svc.environment', 'override' as const],
      ['services.svc.ports', 'reset' as const],
    ]);
    const merged = mergeService(base, { environment: { Z: '9' } }, 'svc', tags);
    expect(merged.environment).toEqual({ Z: '9' });
    expect(merged.ports).toBeUndefined();
    expect(merged.image).toBe('a');
  });

  test('the base is not modified', () => {
    const copy = structuredClone(base);
    mergeService(base, { environment: { A: 'x' } }, 'svc');
    expect(base).toEqual(copy);
  });
});
