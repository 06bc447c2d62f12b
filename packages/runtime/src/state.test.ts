import { spawn } from 'node:child_process';
import { HyprError } from '@hypr/core/errors';
import { describe, expect, test } from 'vitest';
import { parseFlags } from './args.js';
import { parseSignal, signalExitCode } from './signals.js';
import { type ContainerRecord, containerDir, ociState, processStartTicks, statusOf, supervisorAlive } from './state.js';

const record: ContainerRecord = {
  id: 'abc',
  bundle: '/b',
  rootfs: '/b/rootfs',
  created: '2026-01-01T00:00:00.000Z',
  pid: 4242,
  annotations: { a: 'b' },
};

describe('state JSON', () => {
  test('has the fields the runtime spec names, as runc prints them', () => {
    expect(ociState(record, 'running')).toEqual({
      ociVersion: '1.0.2',
      id: 'abc',
      pid: 4242,
      status: 'running',
      bundle: '/b',
      rootfs: '/b/rootfs',
      created: '2026-01-01T00:00:00.000Z',
      owner: '',
      annotations: { a: 'b' },
    });
  });

  test('a stopped container has no pid; no annotations, no key', () => {
    const s = ociState({ ...record, annotations: {} }, 'stopped');
    expect(s.pid).toBe(0);
    expect(s).not.toHaveProperty('annotations');
  });

  test('the status follows the supervisor: created, running once started, stopped at exit or death', () => {
    const started = { startedAt: 'x' };
    const exit = { exitCode: 3, finishedAt: 'y' };
    expect(statusOf({ alive: true })).toBe('created');
    expect(statusOf({ alive: true, started })).toBe('running');
    expect(statusOf({ alive: true, started, exit })).toBe('stopped');
    expect(statusOf({ alive: false, started })).toBe('stopped');
  });

  test('a live process counts only while its start time matches (no reused pid)', async () => {
    const child = spawn('sleep', ['30']);
    await new Promise((r) => child.once('spawn', r));
    const pid = child.pid!;
    const ticks = processStartTicks(pid);
    expect(ticks).toBeGreaterThan(0);
    expect(supervisorAlive({ pid, pidStartTicks: ticks })).toBe(true);
    expect(supervisorAlive({ pid, pidStartTicks: (ticks ?? 0) + 1 })).toBe(false);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(supervisorAlive({ pid, pidStartTicks: ticks })).toBe(false);
  });

  test('an id that could leave the root is refused', () => {
    for (const id of ['../x', 'a/b', '..', '', 'a b']) expect(() => containerDir('/run/r', id)).toThrow(HyprError);
    expect(containerDir('/run/r', 'a-b_c.d+1')).toBe('/run/r/a-b_c.d+1');
  });
});

describe('command line', () => {
  test("runc's flag forms: --flag value, --flag=value, -short, single-dash long", () => {
    const specs = {
      bundle: { kind: 'string' as const, short: 'b' },
      'pid-file': { kind: 'string' as const },
      detach: { kind: 'bool' as const, short: 'd' },
      env: { kind: 'list' as const, short: 'e' },
    };
    expect(
      parseFlags(['--bundle', '/b', '-pid-file=/p', '-d', '-e', 'A=1', '--env=B=2', 'id', '-x'], specs, 't'),
    ).toEqual({
      values: { bundle: '/b', 'pid-file': '/p', detach: true, env: ['A=1', 'B=2'] },
      rest: ['id', '-x'],
    });
  });

  test('an unknown flag is named, with the nearest known one', () => {
    expect(() => parseFlags(['--bundel', 'x'], { bundle: { kind: 'string' } }, 'hypr-runtime create')).toThrow(
      expect.objectContaining({
        message: 'unknown flag --bundel for hypr-runtime create',
        hint: 'did you mean --bundle?',
      }),
    );
  });

  test('signals as kill takes them', () => {
    expect(parseSignal('TERM')).toBe('SIGTERM');
    expect(parseSignal('sigkill')).toBe('SIGKILL');
    expect(parseSignal('9')).toBe('SIGKILL');
    expect(signalExitCode('SIGKILL')).toBe(137);
    expect(() => parseSignal('NOPE')).toThrow(/unknown signal "NOPE"/);
  });
});
