import { expect, test } from 'vitest';
import { containerStatus } from './container-status.js';

// docker's HumanDuration itself is tested with the units module (@hypr/api/units).
test('the STATUS column reads as docker ps prints it', () => {
  const now = 1_000_000_000;
  expect(containerStatus({ state: 'running', exitCode: 0, startedAt: now - 5000, finishedAt: null }, now)).toBe(
    'Up 5 seconds',
  );
  expect(
    containerStatus({ state: 'running', exitCode: 0, startedAt: now - 5000, finishedAt: null, health: 'healthy' }, now),
  ).toBe('Up 5 seconds (healthy)');
  expect(containerStatus({ state: 'exited', exitCode: 3, startedAt: 1, finishedAt: now - 120_000 }, now)).toBe(
    'Exited (3) 2 minutes ago',
  );
  expect(containerStatus({ state: 'created', exitCode: null, startedAt: null, finishedAt: null }, now)).toBe('Created');
  expect(containerStatus({ state: 'restarting', exitCode: 1, startedAt: 1, finishedAt: now - 1000 }, now)).toBe(
    'Restarting (1) 1 second ago',
  );
});
