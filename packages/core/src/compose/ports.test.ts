import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { PortSyntaxError, formatShortPort, parseShortPort } from './ports.js';

describe('short port syntax', () => {
  test.each([
    ['3000', [{ mode: 'ingress', target: 3000, protocol: 'tcp' }]],
    ['8080:80', [{ mode: 'ingress', target: 80, published: '8080', protocol: 'tcp' }]],
    [
      '127.0.0.1:5432:5432/tcp',
      [{ mode: 'ingress', host_ip: '127.0.0.1', target: 5432, published: '5432', protocol: 'tcp' }],
    ],
    ['[::1]:53:53/udp', [{ mode: 'ingress', host_ip: '::1', target: 53, published: '53', protocol: 'udp' }]],
    ['127.0.0.1::80', [{ mode: 'ingress', host_ip: '127.0.0.1', target: 80, protocol: 'tcp' }]],
    ['8000-8010:80', [{ mode: 'ingress', target: 80, published: '8000-8010', protocol: 'tcp' }]],
  ])('%s', (spec, expected) => {
    expect(parseShortPort(spec)).toEqual(expected);
  });

  test('equal ranges expand into one port each', () => {
    expect(parseShortPort('9090-9091:8080-8081').map(formatShortPort)).toEqual(['9090:8080/tcp', '9091:8081/tcp']);
  });

  test.each(['', 'http', '80:80:80', '0:80', '80:65536', '1-2:3-5', '80/icmp', '81-80', '1.2.3.4:80:'])(
    '%j is refused with a PortSyntaxError',
    (spec) => {
      expect(() => parseShortPort(spec)).toThrow(PortSyntaxError);
    },
  );

  const port = fc.integer({ min: 1, max: 65535 });
  test('any HOST:CONTAINER/PROTO round-trips through the long syntax', () =>
    fc.assert(
      fc.property(
        fc.option(fc.constantFrom('127.0.0.1', '0.0.0.0', '::1'), { nil: undefined }),
        fc.option(port, { nil: undefined }),
        port,
        fc.constantFrom('tcp', 'udp'),
        (ip, host, container, proto) => {
          const ipPart = ip ? (ip.includes(':') ? `[${ip}]:` : `${ip}:`) : '';
          const hostPart = host !== undefined ? `${host}:` : ip ? ':' : '';
          const spec = `${ipPart}${hostPart}${container}/${proto}`;
          const [p] = parseShortPort(spec);
          expect(p.target).toBe(container);
          expect(p.protocol).toBe(proto);
          expect(p.published).toBe(host === undefined ? undefined : String(host));
          expect(parseShortPort(formatShortPort(p))).toEqual([p]);
        },
      ),
    ));

  test('any string parses to ports or fails with a PortSyntaxError', () =>
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[0-9:.\-/a-z[\]]{0,20}$/)), (s) => {
        try {
          for (const p of parseShortPort(s)) {
            expect(p.target).toBeGreaterThanOrEqual(1);
            expect(p.target).toBeLessThanOrEqual(65535);
          }
        } catch (e) {
          expect(e).toBeInstanceOf(PortSyntaxError);
        }
      }),
    ));
});
