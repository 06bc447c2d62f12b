import fc from 'fast-check';
import { expect, test } from 'vitest';
import { HyprError } from '../errors.js';
import { familiarImageRef, formatImageRef, isLoopbackRegistry, parseImageRef } from './reference.js';

const D = `sha256:${'a'.repeat(64)}`;

test.each([
  ['nginx', 'docker.io/library/nginx:latest'],
  ['nginx:1.25', 'docker.io/library/nginx:1.25'],
  ['team/app', 'docker.io/team/app:latest'],
  ['docker.io/nginx', 'docker.io/library/nginx:latest'],
  ['index.docker.io/library/nginx:1', 'docker.io/library/nginx:1'],
  ['127.0.0.1:5000/busybox', '127.0.0.1:5000/busybox:latest'],
  ['localhost/app:dev', 'localhost/app:dev'],
  ['ghcr.io/org/sub/app:v1', 'ghcr.io/org/sub/app:v1'],
  [`app@${D}`, `docker.io/library/app@${D}`],
  [`host:5000/app:1@${D}`, `host:5000/app:1@${D}`],
])('%s is %s', (input, canonical) => {
  expect(formatImageRef(parseImageRef(input))).toBe(canonical);
});

test('familiar names drop docker.io/library', () => {
  expect(familiarImageRef(parseImageRef('nginx'))).toBe('nginx:latest');
  expect(familiarImageRef(parseImageRef('127.0.0.1:5000/x'))).toBe('127.0.0.1:5000/x:latest');
});

test.each(['', 'UPPER/case', 'app:bad tag', 'app@sha256:123', 'a//b', ':tag', 'host:5000/'])(
  '"%s" is refused',
  (input) => {
    expect(() => parseImageRef(input)).toThrow(expect.objectContaining({ code: 'IMAGE_REF_INVALID' }));
  },
);

test('loopback registries are recognised', () => {
  expect(isLoopbackRegistry('127.0.0.1:5000')).toBe(true);
  expect(isLoopbackRegistry('localhost')).toBe(true);
  expect(isLoopbackRegistry('[::1]:5000')).toBe(true);
  expect(isLoopbackRegistry('registry.example.com')).toBe(false);
});

test('any text parses to a reference that round-trips, or fails with IMAGE_REF_INVALID', () => {
  fc.assert(
    fc.property(fc.string(), (s) => {
      try {
        const ref = parseImageRef(s);
        expect(parseImageRef(formatImageRef(ref))).toEqual(ref);
      } catch (e) {
        expect(e).toBeInstanceOf(HyprError);
        expect((e as HyprError).code).toBe('IMAGE_REF_INVALID');
      }
    }),
    { numRuns: 2000 },
  );
});
