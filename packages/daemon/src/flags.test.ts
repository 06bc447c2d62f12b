import { HyprError } from '@hypr/core';
import { expect, test } from 'vitest';
import { parseHyprdFlags } from './flags.js';

function errorOf(argv: string[], env: NodeJS.ProcessEnv = {}): HyprError {
  try {
    parseHyprdFlags(argv, env);
  } catch (e) {
    expect(e).toBeInstanceOf(HyprError);
    return e as HyprError;
  }
  throw new Error(`parsed: ${argv.join(' ')}`);
}

test('hyprd flags: the values given, info by default, HYPR_LOG_LEVEL under --log-level', () => {
  expect(parseHyprdFlags(['--data-root', '/d', '-H', 'unix:///s.sock'], {})).toEqual({
    dataRoot: '/d',
    host: 'unix:///s.sock',
    logLevel: 'info',
    version: false,
    help: false,
  });
  expect(parseHyprdFlags([], { HYPR_LOG_LEVEL: 'debug' }).logLevel).toBe('debug');
  expect(parseHyprdFlags(['-l', 'WARN'], { HYPR_LOG_LEVEL: 'debug' }).logLevel).toBe('warn');
});

test('a bad log level names the value and lists the valid ones on one line', () => {
  const e = errorOf(['--log-level', 'verbose']);
  expect(e.code).toBe('DAEMON_FLAG_INVALID');
  expect(e.format()).toBe('invalid --log-level "verbose": valid levels are trace, debug, info, warn, error, fatal');
  expect(errorOf(['--log-level', 'infos']).hint).toBe('did you mean info?');
  expect(errorOf([], { HYPR_LOG_LEVEL: 'loud' }).message).toContain('HYPR_LOG_LEVEL "loud"');
});

test('unknown flags, missing values and stray arguments are named', () => {
  expect(errorOf(['--debug'])).toMatchObject({ code: 'DAEMON_FLAG_UNKNOWN', message: 'unknown flag: --debug' });
  expect(errorOf(['--log-level']).message).toBe('flag needs a value: --log-level');
  expect(errorOf(['start']).message).toBe('unexpected argument: start');
  expect(errorOf(['--data-root', '']).message).toBe('--data-root needs a non-empty value');
});
