import { describe, expect, test } from 'vitest';
import { parseDockerfile } from '../dockerfile/index.js';
import { type BuildRuntimeConfig, applyConfigStep } from './image-config.js';

describe('applyConfigStep', () => {
  test('WORKDIR joins relative paths, normalises, and stops `..` at the root', () => {
    const df = parseDockerfile(
      'FROM scratch\nWORKDIR /a/b\nWORKDIR ../c/./d/\nWORKDIR ../../../../x\nWORKDIR /abs//y\n',
    );
    const config: BuildRuntimeConfig = {};
    const seen: string[] = [];
    for (const step of df.stages[0].steps) {
      applyConfigStep(config, step);
      seen.push(config.WorkingDir!);
    }
    expect(seen).toEqual(['/a/b', '/a/c/d', '/x', '/abs/y']);
  });
});
