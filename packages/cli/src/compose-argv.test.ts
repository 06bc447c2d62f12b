import { describe, expect, test } from 'vitest';
import { hoistComposeGlobals } from './compose-argv.js';

describe('hoistComposeGlobals', () => {
  test('moves the global flags after the compose command, with long names', () => {
    expect(hoistComposeGlobals(['compose', '-f', 'a.yml', '-f', 'b.yml', '-p', 'x', 'logs', '-f', 'web'])).toEqual([
      'compose',
      'logs',
      '--file',
      'a.yml',
      '--file',
      'b.yml',
      '--project-name',
      'x',
      '-f',
      'web',
    ]);
    expect(hoistComposeGlobals(['compose', '-fa.yml', '--file=b.yml', '-p=x', '--profile', 'dev', 'up'])).toEqual([
      'compose',
      'up',
      '--file',
      'a.yml',
      '--file=b.yml',
      '--project-name=x',
      '--profile',
      'dev',
    ]);
  });

  test('leaves other commands and a bare compose alone', () => {
    expect(hoistComposeGlobals(['ps', '-a'])).toEqual(['ps', '-a']);
    expect(hoistComposeGlobals(['compose', 'up', '-d'])).toEqual(['compose', 'up', '-d']);
    expect(hoistComposeGlobals(['compose', '--help'])).toEqual(['compose', '--help']);
  });
});
