import fc from 'fast-check';
import { expect, test } from 'vitest';
import { type GuestEvent, GuestEventReader, parseGuestEvent } from './markers.js';

test('well-formed markers parse', () => {
  expect(parseGuestEvent('[HYPR-EXIT] 137')).toEqual({ kind: 'exit', code: 137 });
  expect(parseGuestEvent('[HYPR-READY] kestrel 0.1.0')).toEqual({ kind: 'ready', version: '0.1.0' });
  expect(parseGuestEvent('[HYPR-ERROR] exec x: not found')).toEqual({ kind: 'error', message: 'exec x: not found' });
  expect(parseGuestEvent('[HYPR-STARTED] 27\r')).toEqual({ kind: 'started', pid: 27 });
});

test('malformed or out-of-range exit markers are ignored', () => {
  for (const line of [
    '[HYPR-EXIT] 256',
    '[HYPR-EXIT] -1',
    '[HYPR-EXIT]',
    '[HYPR-EXIT] 1x',
    ' [HYPR-EXIT] 0',
    'x[HYPR-EXIT] 0',
    '[hypr-exit] 0',
  ])
    expect(parseGuestEvent(line)).toBeUndefined();
});

test('garbage never yields an exit event', () => {
  fc.assert(
    fc.property(fc.string(), (s) => {
      const e = parseGuestEvent(s);
      if (e?.kind === 'exit') expect(s).toMatch(/^\[HYPR-EXIT\] \d{1,3}\r?$/);
    }),
  );
});

test('markers split across chunks and truncated output are handled', () => {
  const events: GuestEvent[] = [];
  const r = new GuestEventReader((e) => events.push(e));
  for (const c of ['[HYPR-RE', 'ADY] kestrel 1\n[HYPR-EX', 'IT] 4', '2\n[HYPR-EXIT] 1']) r.push(c);
  expect(events).toEqual([
    { kind: 'ready', version: '1' },
    { kind: 'exit', code: 42 },
  ]);
});
