import { expect, test } from 'vitest';
import { containerStatus, humanDuration } from './container-status.js';

test.each([
  [400, 'Less than a second'],
  [1000, '1 second'],
  [59_000, '59 seconds'],
  [60_000, 'About a minute'],
  [5 * 60_000, '5 minutes'],
  [3_600_000, 'About an hour'],
  [5 * 3_600_000, '5 hours'],
  [3 * 86_400_000, '3 days'],
  [21 * 86_400_000, '3 weeks'],
  [90 * 86_400_000, '3 months'],
  [800 * 86_400_000, '2 years'],
])("docker's HumanDuration of %i ms is %s", (ms, text) => expect(humanDuration(ms)).toBe(text));

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
