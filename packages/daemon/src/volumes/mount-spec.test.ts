import { HyprError } from '@hypr/core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parseMountFlag, parseTmpfsFlag, parseVolumeFlag, parseVolumesFrom } from './mount-spec.js';

// Expected values follow docker's documented behaviour (docs.docker.com/engine/storage/{volumes,bind-mounts,tmpfs}).
describe('-v / --volume', () => {
  test.each([
    ['/data', { type: 'volume', target: '/data', readOnly: false, noCopy: false }],
    ['/data:ro', { type: 'volume', target: '/data', readOnly: true, noCopy: false }],
    ['pgdata:/var/lib/pg', { type: 'volume', name: 'pgdata', target: '/var/lib/pg', readOnly: false, noCopy: false }],
    ['pgdata:/var/lib/pg:ro', { type: 'volume', name: 'pgdata', target: '/var/lib/pg', readOnly: true, noCopy: false }],
    ['v1:/x:nocopy', { type: 'volume', name: 'v1', target: '/x', readOnly: false, noCopy: true }],
    ['/srv/app:/app', { type: 'bind', source: '/srv/app', target: '/app', readOnly: false, createSource: true }],
    ['/srv/app:/app:ro', { type: 'bind', source: '/srv/app', target: '/app', readOnly: true, createSource: true }],
    ['/srv/app:/app:rw,z', { type: 'bind', source: '/srv/app', target: '/app', readOnly: false, createSource: true }],
    [
      '/srv/../srv//app/:/app/',
      { type: 'bind', source: '/srv/app', target: '/app', readOnly: false, createSource: true },
    ],
  ])('%s', (text, expected) => {
    expect(parseVolumeFlag(text)).toEqual(expected);
  });

  test.each([
    ['./data:/data', 'includes invalid characters for a local volume name'],
    ['data', "invalid mount path: 'data' mount path must be absolute"],
    ['vol:data', "invalid mount path: 'data' mount path must be absolute"],
    ['/a:/b:rx', 'invalid mode: rx'],
    ['/a:/b:ro,rw', 'invalid mode: ro,rw'],
    ['/a:/b:nocopy', 'invalid mode: nocopy'],
    ['/a:/b:ro:x', 'invalid volume specification'],
    [':/b', 'invalid volume specification'],
    ['/a:/', 'destination can\'t be "/"'],
    ['x:/b', 'includes invalid characters'],
  ])('%s is refused', (text, message) => {
    expect(() => parseVolumeFlag(text)).toThrow(message);
    expect(() => parseVolumeFlag(text)).toThrow(`invalid argument "${text}" for "--volume" flag`);
  });

  test('any text parses or fails with an error naming the flag', () =>
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          parseVolumeFlag(s);
        } catch (e) {
          expect(e).toBeInstanceOf(HyprError);
          expect((e as HyprError).message).toContain('"--volume" flag');
        }
      }),
    ));
});

describe('--mount', () => {
  test.each([
    [
      'type=bind,source=/srv,target=/app',
      { type: 'bind', source: '/srv', target: '/app', readOnly: false, createSource: false },
    ],
    [
      'type=bind,src=/srv,dst=/app,readonly',
      { type: 'bind', source: '/srv', target: '/app', readOnly: true, createSource: false },
    ],
    [
      'type=bind,src=/srv,destination=/app,ro=false',
      { type: 'bind', source: '/srv', target: '/app', readOnly: false, createSource: false },
    ],
    ['source=v1,target=/d', { type: 'volume', name: 'v1', target: '/d', readOnly: false, noCopy: false }],
    ['type=volume,target=/d', { type: 'volume', target: '/d', readOnly: false, noCopy: false }],
    [
      'type=volume,src=v1,dst=/d,volume-nocopy,volume-label=a=b',
      { type: 'volume', name: 'v1', target: '/d', readOnly: false, noCopy: true, labels: { a: 'b' } },
    ],
    ['type=tmpfs,target=/run', { type: 'tmpfs', target: '/run', options: 'mode=1777' }],
    [
      'type=tmpfs,dst=/run,tmpfs-size=64m,tmpfs-mode=700',
      { type: 'tmpfs', target: '/run', options: `size=${64 * 1024 * 1024},mode=700` },
    ],
  ])('%s', (text, expected) => {
    expect(parseMountFlag(text)).toEqual(expected);
  });

  test.each([
    ['type=bind,source=rel,target=/a', "invalid mount path: 'rel' mount path must be absolute"],
    ['type=bind,target=/a', 'field Source must not be empty'],
    ['type=volume,source=vol', 'field Target must not be empty'],
    ['type=tmpfs,source=/x,target=/a', 'source must not be specified'],
    ['type=nfs,target=/a', 'invalid mount type: nfs'],
    ['type=bind,src=/a,dst=/b,tmpfs-size=1m', "cannot mix 'tmpfs-*' options"],
    ['type=bind,src=/a,dst=/b,volume-nocopy', "cannot mix 'volume-nocopy'"],
    ['type=tmpfs,dst=/b,tmpfs-size=lots', 'invalid value for tmpfs-size'],
    ['type=bind,src=/a,dst=/b,color=red', "unexpected key 'color'"],
    ['type', "invalid field 'type' must be a key=value pair"],
  ])('%s is refused', (text, message) => {
    expect(() => parseMountFlag(text)).toThrow(message);
    expect(() => parseMountFlag(text)).toThrow(`invalid argument "${text}" for "--mount" flag`);
  });
});

describe('--tmpfs', () => {
  test.each([
    ['/run', { type: 'tmpfs', target: '/run', options: 'mode=1777' }],
    ['/run:size=64m', { type: 'tmpfs', target: '/run', options: `size=${64 * 1024 * 1024},mode=1777` }],
    [
      '/run:rw,noexec,nosuid,size=65536k',
      { type: 'tmpfs', target: '/run', options: 'noexec,nosuid,size=67108864,mode=1777' },
    ],
    ['/run:mode=0700', { type: 'tmpfs', target: '/run', options: 'mode=0700' }],
  ])('%s', (text, expected) => {
    expect(parseTmpfsFlag(text)).toEqual(expected);
  });

  test.each([
    ['run', 'must be absolute'],
    ['/run:size=big', "invalid size: 'big'"],
    ['/run:bogus', 'invalid tmpfs option ["bogus"]'],
    ['/run:mode=rwx', 'invalid mode: rwx'],
  ])('%s is refused', (text, message) => {
    expect(() => parseTmpfsFlag(text)).toThrow(message);
    expect(() => parseTmpfsFlag(text)).toThrow('"--tmpfs" flag');
  });
});

describe('--volumes-from', () => {
  test.each([
    ['data', { container: 'data' }],
    ['data:ro', { container: 'data', mode: 'ro' }],
    ['data:rw', { container: 'data', mode: 'rw' }],
  ])('%s', (text, expected) => {
    expect(parseVolumesFrom(text)).toEqual(expected);
  });
  test('a bad mode is refused', () => {
    expect(() => parseVolumesFrom('data:rx')).toThrow('invalid argument "data:rx" for "--volumes-from" flag');
  });
});
