import { describe, expect, test } from 'vitest';
import { VolumeSyntaxError, parseShortVolume } from './volumes.js';

describe('short volume syntax', () => {
  test.each([
    ['/data', { type: 'volume', target: '/data' }],
    ['db:/var/lib/db', { type: 'volume', source: 'db', target: '/var/lib/db' }],
    [
      './src:/app:ro',
      { type: 'bind', source: '/p/src', target: '/app', read_only: true, bind: { create_host_path: true } },
    ],
    [
      '/abs:/x:rw,rshared',
      { type: 'bind', source: '/abs', target: '/x', bind: { propagation: 'rshared', create_host_path: true } },
    ],
    ['cache:/c:nocopy', { type: 'volume', source: 'cache', target: '/c', volume: { nocopy: true } }],
  ])('%s', (spec, expected) => {
    expect(parseShortVolume(spec, '/p')).toEqual(expected);
  });

  test.each(['', 'a:b', './x:/y:bogus', 'vol:/y:z', 'a:b:c:d'])('%j is refused', (spec) => {
    expect(() => parseShortVolume(spec, '/p')).toThrow(VolumeSyntaxError);
  });
});
