import { expect, test } from 'vitest';
import type { ImageConfig } from './manifest.js';
import { resolveImageRunSpec } from './run-config.js';

const cfg = (config: ImageConfig['config']): ImageConfig => ({
  architecture: 'amd64',
  os: 'linux',
  rootfs: { type: 'layers', diff_ids: [] },
  config,
});

test('entrypoint and cmd combine as docker run does', () => {
  const c = cfg({
    Entrypoint: ['/bin/ep'],
    Cmd: ['default'],
    Env: ['A=1', 'PATH=/bin'],
    WorkingDir: '/srv',
    User: 'nobody',
  });
  expect(resolveImageRunSpec(c)).toEqual({
    argv: ['/bin/ep', 'default'],
    env: ['A=1', 'PATH=/bin'],
    workdir: '/srv',
    user: 'nobody',
  });
  expect(resolveImageRunSpec(c, { command: ['x'], env: ['A=2', 'B=3'], workdir: '/w', user: 'root' })).toEqual({
    argv: ['/bin/ep', 'x'],
    env: ['A=2', 'PATH=/bin', 'B=3'],
    workdir: '/w',
    user: 'root',
  });
  expect(resolveImageRunSpec(c, { entrypoint: ['sh'] }).argv).toEqual(['sh']);
  expect(() => resolveImageRunSpec(cfg({}))).toThrow(expect.objectContaining({ code: 'IMAGE_NO_COMMAND' }));
});
