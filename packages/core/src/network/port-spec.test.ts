import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { HyprError } from '../errors.js';
import { formatPublishedPort, mappingsForExposed, parsePortSpec } from './port-spec.js';

const any = '0.0.0.0';

describe('parsePortSpec', () => {
  test.each([
    ['80', [{ hostIp: any, hostPort: 0, containerPort: 80, protocol: 'tcp' }]],
    ['8080:80', [{ hostIp: any, hostPort: 8080, containerPort: 80, protocol: 'tcp' }]],
    ['0:80', [{ hostIp: any, hostPort: 0, containerPort: 80, protocol: 'tcp' }]],
    ['127.0.0.1:8080:80/udp', [{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'udp' }]],
    ['127.0.0.1::80', [{ hostIp: '127.0.0.1', hostPort: 0, containerPort: 80, protocol: 'tcp' }]],
    ['[::1]:8080:80/TCP', [{ hostIp: '::1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]],
    [
      '8000-8001:80-81',
      [
        { hostIp: any, hostPort: 8000, containerPort: 80, protocol: 'tcp' },
        { hostIp: any, hostPort: 8001, containerPort: 81, protocol: 'tcp' },
      ],
    ],
    ['8000-8010:80', [{ hostIp: any, hostPort: 8000, hostPortEnd: 8010, containerPort: 80, protocol: 'tcp' }]],
    [
      '53-54/udp',
      [
        { hostIp: any, hostPort: 0, containerPort: 53, protocol: 'udp' },
        { hostIp: any, hostPort: 0, containerPort: 54, protocol: 'udp' },
      ],
    ],
  ])('%s', (spec, expected) => {
    expect(parsePortSpec(spec)).toEqual(expected);
  });

  test.each([
    ['', 'it is empty'],
    ['80/sctp', 'SCTP is not supported'],
    ['80/icmp', 'unknown protocol'],
    ['0', 'outside 1-65535'],
    ['8080:0', 'outside 1-65535'],
    ['70000:80', 'outside 0-65535'],
    ['a:80', 'not a number'],
    ['1.2.3:80:80', 'not an IP address'],
    ['::1:80:80', 'too many'],
    [':80:80', 'host IP is empty'],
    ['8000-8002:80-81', 'differ in length'],
    ['90-80', 'ends before it starts'],
    ['8080:', 'no container port'],
  ])('%s is refused: %s', (spec, reason) => {
    expect(() => parsePortSpec(spec)).toThrow(expect.objectContaining({ code: 'PORT_SPEC_INVALID' }));
    expect(() => parsePortSpec(spec)).toThrow(reason);
  });

  test('any text parses or fails with PORT_SPEC_INVALID', () => {
    const chars = fc.constantFrom(...'0123456789:-/.[]tcpudTCP abf'.split(''));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: chars, maxLength: 24 })), (s) => {
        try {
          for (const m of parsePortSpec(s)) {
            expect(m.containerPort).toBeGreaterThanOrEqual(1);
            expect(m.containerPort).toBeLessThanOrEqual(65535);
            expect(m.hostPort).toBeGreaterThanOrEqual(0);
            expect(['tcp', 'udp']).toContain(m.protocol);
          }
        } catch (e) {
          expect(e).toBeInstanceOf(HyprError);
          expect((e as HyprError).code).toBe('PORT_SPEC_INVALID');
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('printed mappings parse back to themselves', () => {
    const port = fc.integer({ min: 1, max: 65535 });
    fc.assert(
      fc.property(
        fc.constantFrom('0.0.0.0', '127.0.0.1', '10.1.2.3', '::1', '::'),
        fc.integer({ min: 0, max: 65535 }),
        port,
        fc.constantFrom('tcp', 'udp'),
        (hostIp, hostPort, containerPort, protocol) => {
          const ip = hostIp.includes(':') ? `[${hostIp}]` : hostIp;
          const spec = `${ip}:${hostPort}:${containerPort}/${protocol}`;
          expect(parsePortSpec(spec)).toEqual([{ hostIp, hostPort, containerPort, protocol }]);
        },
      ),
    );
  });
});

test('-P publishes every exposed port on a free host port', () => {
  expect(mappingsForExposed(['80/tcp', '53/udp', '8080'], '127.0.0.1')).toEqual([
    { hostIp: '127.0.0.1', hostPort: 0, containerPort: 80, protocol: 'tcp' },
    { hostIp: '127.0.0.1', hostPort: 0, containerPort: 53, protocol: 'udp' },
    { hostIp: '127.0.0.1', hostPort: 0, containerPort: 8080, protocol: 'tcp' },
  ]);
  expect(formatPublishedPort({ hostIp: '::', hostPort: 49153, containerPort: 80, protocol: 'tcp' })).toBe(
    '80/tcp -> [::]:49153',
  );
});
